"""PostgreSQL through DATABASE_URL: migrations apply and the tests of what the database changes pass on it.

What differs between SQLite and PostgreSQL is the database's side, so that is what runs again here (not every test
that happens to touch a table): every migration, data migrations included (`--create-db`, test_migrations.py); row
locks, which SQLite ignores and PostgreSQL takes (select_for_update: the login lockout's counters, coalesced audit
entries of bad tokens, the credential key rotation, the SMTP settings); get_or_create and unique constraints racing
inside transactions (the lockout, the storage inventory and its jobs, many clients at once); JSON columns and the
stored messages in them; and the health probe's rolled-back write. The storage tests on real loop devices, mounts
and netlink (test_disks_real, test_disk_roots, test_hotplug, test_restart, test_page, test_fullness,
test_disk_apps) stay out: their database side is the inventory's and the jobs', covered here, and a second copy
beside the main run would share the kernel's loop devices with it.
(The whole storage folder plus the health tests took 120 s under load.)"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import missing

ROOT = Path(__file__).resolve().parents[2]
URL = os.environ.get("CASAOS_TEST_POSTGRES_URL", "postgres://casaos_test:casaos_test@127.0.0.1:5432/casaos_test")
DATABASE_SIDE = [
    "tests/core/test_health.py::test_healthz_is_degraded_and_503_when_a_part_is_down",
    "tests/core/test_health.py::test_status_page_names_the_broken_part",
    "tests/core/test_credentials.py",
    "tests/accounts/test_migrations.py",
    "tests/accounts/test_login.py",
    "tests/accounts/test_api_tokens.py",
    "tests/notifications/test_channels.py",
    "tests/storage/test_inventory.py",
    "tests/storage/test_inventory_current.py",
    "tests/storage/test_stored_messages.py",
    "tests/storage/test_many_clients.py",
    "tests/storage/test_views.py",
    "tests/storage/test_admin.py",
    "tests/storage/test_consumers.py",
    "tests/storage/test_disk_socket.py",
    "tests/storage/test_system.py",
    "tests/backups/test_postgres_system.py",  # the system backup's pg_dump and box_restore's pg_restore
    "tests/network/test_one_change.py",
]


@pytest.fixture(scope="module")
def postgres_env():
    probe = subprocess.run(["pg_isready", "-h", "127.0.0.1"], capture_output=True)
    if probe.returncode != 0:
        missing("PostgreSQL does not answer on 127.0.0.1:5432; run scripts/test-services.sh")
    return {**os.environ, "DATABASE_URL": URL, "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test"}


def test_it_runs_the_database_side_on_postgresql(postgres_env):
    # pytest-django creates (and drops) test_casaos_test on the server; the role may create databases.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *DATABASE_SIDE,
            "-o",
            "addopts=",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "not stack and not browser and not serial",
            "--create-db",
        ],
        cwd=ROOT,
        env=postgres_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "passed" in result.stdout


def test_the_settings_pick_postgresql_from_database_url(postgres_env):
    code = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=postgres_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "django.db.backends.postgresql", result.stderr
