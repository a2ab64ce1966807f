"""Schemathesis fuzzes a stack of its own with a full-scope token, on a throw-away data directory (full scope
deletes, installs and revokes whatever the fuzzer makes up): no server error, and no status the schema does not
document (the read-token run is test_schemathesis_read.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.attacks.schemathesis_run import fuzz
from tests.conftest import LiveStack

pytestmark = [pytest.mark.stack, pytest.mark.docker]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def throwaway_stack(tmp_path, redis_client):
    """A whole stack (web, worker, sampler, events) on a data directory and Redis database of its own."""
    data = tmp_path / "data"
    env = {**os.environ, "CASAOS_DATA_DIR": str(data), "CASAOS_REDIS_URL": "redis://127.0.0.1:6379/10"}
    # The fuzzer's bad-credential cases would lock its address's token bucket (429 from then on for those cases),
    # and it outruns 3,000 requests a minute: here it must reach the logic behind each operation, not the limits.
    env.update(CASAOS_LOCKOUT_TOKEN_FAILURES="1000000", CASAOS_API_RATE_USER="100000")
    env["DJANGO_SETTINGS_MODULE"] = "casaos_site.settings"
    env.pop("DATABASE_URL", None)
    env.update(_a_fake_host(tmp_path))
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    admin = {"DJANGO_SUPERUSER_USERNAME": "fuzz", "DJANGO_SUPERUSER_PASSWORD": "a long fuzzing passphrase"}
    admin["DJANGO_SUPERUSER_EMAIL"] = "fuzz@example.com"
    subprocess.run([*manage, "createsuperuser", "--noinput"], cwd=ROOT, env={**env, **admin}, check=True, timeout=60)
    token = subprocess.run(
        [*manage, "apitoken", "fuzz", "--scope", "full"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.split()[-1]
    stack = LiveStack(env)
    stack.start()
    yield stack, token
    stack.stop()


def _a_fake_host(tmp_path: Path) -> dict[str, str]:
    """Production settings, but nothing that reaches the machine: a full token may rename the box, restart it, write
    Samba's configuration, make Unix accounts, mount under the media root and make WireGuard interfaces. (A run without this renamed the
    machine to "0" through /api/network/hostname/ and then asked systemctl to reboot with "0" as the typed name.)"""
    host = tmp_path / "host"
    (host / "etc").mkdir(parents=True)
    (host / "etc" / "hostname").write_text("fuzzbox\n")
    recorder = [sys.executable, str(ROOT / "tests" / "system" / "host_recorder.py"), str(tmp_path / "host.log")]
    return {
        "CASAOS_SYSTEM_HOST_ROOT": str(host),
        "CASAOS_SYSTEM_HOST_WRAPPER": ",".join(recorder),
        "CASAOS_NETWORK_DBUS_ADDRESS": f"unix:path={tmp_path / 'no-bus'}",
        "CASAOS_SAMBA_CONF": str(host / "smb.conf"),
        "CASAOS_SAMBA_INCLUDE": str(host / "casaos-shares.conf"),
        "CASAOS_SHARES_USER": "casaos-fuzz-none",
        "CASAOS_SHARES_AVAHI_SERVICE": str(host / "casaos-smb.service"),
        "CASAOS_MEDIA_ROOT": str(tmp_path / "media"),
        "CASAOS_REMOTES_MOUNT_ROOT": str(tmp_path / "media" / ".remotes"),
        # A full token may turn the VPN on and add devices: ip, wg and wireguard-go are recorded, never run.
        "CASAOS_VPN_HOST_PREFIX": ",".join(recorder),
        # A full token may post an address of this machine to /api/nodes/init/: the test engine must stay plain.
        "CASAOS_NODES_INIT": "0",
    }


def test_a_full_token_finds_no_server_error_and_no_undocumented_status(throwaway_stack, tmp_path):
    stack, token = throwaway_stack
    fuzz(stack.url, token, tmp_path, "full")
