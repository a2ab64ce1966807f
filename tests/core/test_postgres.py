"""PostgreSQL through DATABASE_URL: migrations apply and the core tests pass on it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import missing

ROOT = Path(__file__).resolve().parents[2]
URL = os.environ.get("CASAOS_TEST_POSTGRES_URL", "postgres://casaos_test:casaos_test@127.0.0.1:5432/casaos_test")


@pytest.fixture(scope="module")
def postgres_env():
    probe = subprocess.run(["pg_isready", "-h", "127.0.0.1"], capture_output=True)
    if probe.returncode != 0:
        missing("PostgreSQL does not answer on 127.0.0.1:5432; run scripts/test-services.sh")
    return {**os.environ, "DATABASE_URL": URL, "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test"}


def test_it_runs_the_core_suite_on_postgresql(postgres_env):
    # pytest-django creates (and drops) test_casaos_test on the server; the role may create databases.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/core/test_health.py",
            "tests/storage",
            # Real loop devices, mounts and mergerfs: the host's side, which the database does not change. The main
            # run has them already; a second copy at the same time would share the kernel's loop devices with it.
            "--ignore=tests/storage/test_disks_real.py",
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
