"""Settings for the test suite: its own data directory, Redis database and SQLite file.

Under pytest-xdist (`make test` runs the suite in several processes) each worker gets a data directory and a Redis
database of its own: the live stack of one worker must never take another's tasks or read its database.
"""

import os
import sys
from pathlib import Path

_base = Path(__file__).resolve().parent.parent
# Databases 10 and 11 belong to tests that start stacks of their own (see docs/development.md).
_XDIST_REDIS_DB = {"gw0": 15, "gw1": 8, "gw2": 7, "gw3": 6}
# A second database per worker for tests that run a broker of their own (a worker they kill, a queue they flush).
_XDIST_SPARE_DB = {"gw0": 12, "gw1": 14, "gw2": 13, "gw3": 9}
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
# Set once, in the worker itself (whatever the shell exported); the processes a test starts inherit the worker's
# values, or the ones the test gives them on purpose.
if _worker and os.environ.get("CASAOS_TEST_ISOLATED") != _worker:
    if _worker not in _XDIST_REDIS_DB:
        raise SystemExit(f"casaos tests: at most {len(_XDIST_REDIS_DB)} xdist workers (got {_worker})")
    os.environ["CASAOS_DATA_DIR"] = str(_base / "var" / f"test-{_worker}")
    os.environ["CASAOS_REDIS_URL"] = f"redis://127.0.0.1:6379/{_XDIST_REDIS_DB[_worker]}"
    os.environ["CASAOS_TEST_SPARE_REDIS_URL"] = f"redis://127.0.0.1:6379/{_XDIST_SPARE_DB[_worker]}"
    os.environ["CASAOS_TEST_ISOLATED"] = _worker
os.environ.setdefault("CASAOS_DATA_DIR", str(_base / "var" / "test"))
os.environ.setdefault("CASAOS_REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CASAOS_TEST_SPARE_REDIS_URL", "redis://127.0.0.1:6379/12")
# Playwright's sync API runs an event loop in the test thread; the ORM calls made beside it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from .settings import *  # noqa: E402, F403
from .settings import DATA_DIR, DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: the live server and worker subprocesses of the e2e tests open the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}

# The host the System settings change is a fake one: files under the data directory, and every command that would
# change the machine (hostname, timedatectl, systemctl reboot/poweroff) recorded by tests/system/host_recorder.py
# instead of run. Tests that check them point these at a directory of their own.
SYSTEM_HOST_ROOT = DATA_DIR / "fake-host"
SYSTEM_HOST_WRAPPER = [sys.executable, str(_base / "tests" / "system" / "host_recorder.py"), str(DATA_DIR / "host.log")]

# The Network page never reaches the host's NetworkManager from a test: a bus address where nothing listens. The
# NetworkManager tests start their own (tests/network/nm_fixture.py) and point this at its bus.
NETWORK_DBUS_ADDRESS = f"unix:path={DATA_DIR / 'no-network-bus'}"

# The VPN never changes this machine's interfaces from a test: every ip, wg and wireguard-go command is recorded by
# the same recorder. The tunnel tests (tests/vpn/test_tunnel.py) point it at `ip netns exec <their namespace>`.
VPN_HOST_PREFIX = [sys.executable, str(_base / "tests" / "system" / "host_recorder.py"), str(DATA_DIR / "vpn-host.log")]

# The test engine (/var/run/docker.sock) stays a plain one: "make this box a manager" refuses after its checks. The
# swarm tests use the two-node cluster of scripts/swarm-test.sh (tests/swarm/conftest.py) instead.
NODES_INIT = False

# The production hasher's algorithm at the least cost (tests/hashers.py); PBKDF2 stays for the rehash tests.
PASSWORD_HASHERS = ["tests.hashers.QuickArgon2PasswordHasher", *PASSWORD_HASHERS[1:]]  # noqa: F405
