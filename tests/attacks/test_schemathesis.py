"""Schemathesis fuzzes the live server from our own OpenAPI schema: no server error, and no status the schema does
not document. Once with a read token against the suite's stack, once with a full-scope token against a stack of
its own on a throw-away data directory (full scope deletes, installs and revokes whatever the fuzzer makes up)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from accounts.models import APIToken
from accounts.services.tokens import api_token_create
from tests.conftest import ARTIFACTS, LiveStack

pytestmark = [pytest.mark.stack, pytest.mark.docker]
ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


def _fuzz(url: str, token: str, tmp_path: Path, name: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    schema = requests.get(f"{url}/api/schema/?format=json", headers=headers, timeout=60)
    assert schema.status_code == 200, schema.text[:300]
    (tmp_path / "schema.json").write_bytes(schema.content)
    argv = [
        str(SCHEMATHESIS),
        "run",
        str(tmp_path / "schema.json"),
        "--url",
        url,
        "-H",
        f"Authorization: {headers['Authorization']}",
    ]
    argv += ["--checks", "not_a_server_error,status_code_conformance", "--phases", "coverage,fuzzing"]
    argv += ["--max-examples", "6", "--workers", "2", "--seed", "20261206", "--no-color"]
    run = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"schemathesis-{name}.log").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, run.stdout[-6000:]
    assert "Tested: " in run.stdout and "server error" not in run.stdout.lower()


def test_a_read_token_finds_no_server_error_and_no_undocumented_status(
    live_stack, admin_user, tmp_path, transactional_db
):
    raw = api_token_create(user=admin_user, name="fuzz", scope=APIToken.Scope.READ)[1]
    _fuzz(live_stack.url, raw, tmp_path, "read")


@pytest.fixture
def throwaway_stack(tmp_path, redis_client):
    """A whole stack (web, worker, sampler, events) on a data directory and Redis database of its own."""
    data = tmp_path / "data"
    env = {**os.environ, "CASAOS_DATA_DIR": str(data), "CASAOS_REDIS_URL": "redis://127.0.0.1:6379/10"}
    env["DJANGO_SETTINGS_MODULE"] = "casaos_site.settings"
    env.pop("DATABASE_URL", None)
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


def test_a_full_token_finds_no_server_error_and_no_undocumented_status(throwaway_stack, tmp_path):
    stack, token = throwaway_stack
    _fuzz(stack.url, token, tmp_path, "full")
