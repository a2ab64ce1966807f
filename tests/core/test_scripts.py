"""The set-up scripts of `make run`: what they start, and what they do when something will not start."""

import io
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis
from django.core.management import call_command

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _services(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    # The LAN daemons of shares (smbd, wsdd, avahi-daemon) are not what these tests are about: never left running.
    env = {**os.environ, "CASAOS_DATA_DIR": str(tmp_path), "CASAOS_LAN_SERVICES": "0", **env}
    return subprocess.run(
        ["bash", "scripts/services.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _preflight() -> str:
    err = io.StringIO()
    call_command("preflight", stdout=io.StringIO(), stderr=err)
    return err.getvalue()


@pytest.mark.redis
def test_an_engine_that_does_not_answer_is_a_warning_not_a_stop(tmp_path, redis_client):
    dead = {"CASAOS_ENGINE_URL": f"unix://{tmp_path}/no-engine.sock", "CASAOS_REDIS_URL": "redis://127.0.0.1:6379/0"}
    result = _services(tmp_path, **dead)
    assert result.returncode == 0, result.stderr
    assert "casaos: warning:" in result.stderr and "apps cannot be installed" in result.stderr
    required = _services(tmp_path, CASAOS_REQUIRE_ENGINE="1", **dead)  # the test set-up: no tests without it
    assert required.returncode != 0 and "does not answer" in required.stderr


@pytest.mark.redis
@pytest.mark.docker
def test_our_redis_keeps_queued_work_across_a_crash(tmp_path, engine, settings, db):
    url = f"redis://127.0.0.1:{free_port()}/0"
    assert _services(tmp_path, CASAOS_REDIS_URL=url).returncode == 0
    pid_file = tmp_path / "run" / "redis.pid"
    try:
        redis.Redis.from_url(url).rpush("celery", "queued install")
        time.sleep(1.5)  # appendfsync everysec: what is a second old is on disk
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
        time.sleep(0.5)
        assert _services(tmp_path, CASAOS_REDIS_URL=url).returncode == 0
        assert redis.Redis.from_url(url).lrange("celery", 0, -1) == [b"queued install"]
        settings.REDIS_URL = url
        assert "append-only" not in _preflight()
        redis.Redis.from_url(url).config_set("appendonly", "no")  # a host's Redis as Debian configures it
        assert "redis: the append-only file is off" in _preflight()
    finally:
        os.kill(int(pid_file.read_text()), signal.SIGTERM)


@pytest.mark.parametrize("machine", ["armv7l", "armv6l"])
def test_armhf_gets_the_build_dependencies_pip_needs(machine, tmp_path):
    # No PyPI wheels there for ten compiled packages (docs/performance.md): pip builds them, psycopg uses libpq5.
    assert set(_build_deps(machine, tmp_path)) == {
        "build-essential",
        "python3-dev",
        "libffi-dev",
        "libyaml-dev",
        "libjpeg-dev",
        "zlib1g-dev",
        "libpq5",
    }


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_machines_with_wheels_need_no_compiler(machine, tmp_path):
    assert _build_deps(machine, tmp_path) == []


def _build_deps(machine: str, tmp_path: Path) -> list[str]:
    env = {**os.environ, "CASAOS_DATA_DIR": str(tmp_path)}
    out = subprocess.run(
        ["bash", "-c", f"source scripts/lib.sh && build_deps {machine}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()
