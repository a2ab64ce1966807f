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
    # One worker: under two, hypothesis describes strategies through `ast` from two threads at once, which
    # CPython 3.11 reports as "AST constructor recursion depth mismatch" (a runtime error, not our server's).
    argv += ["--max-examples", "6", "--workers", "1", "--seed", "20261206", "--no-color"]
    run = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"schemathesis-{name}.log").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, _report(run.stdout)
    assert "Tested: " in run.stdout and "server error" not in run.stdout.lower()


def _report(out: str) -> str:
    """The errors and failures sections (they come before the long warnings), then the summary."""
    start = min((i for i in (out.find("= ERRORS ="), out.find("= FAILURES =")) if i >= 0), default=0)
    return out[start : start + 6000] + "\n[…]\n" + out[-2500:]


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
    # The fuzzer's bad-credential cases would lock its address's token bucket (429 from then on for those cases),
    # and it outruns 3,000 requests a minute: here it must reach the logic behind each operation, not the limits.
    env.update(CASAOS_LOCKOUT_TOKEN_FAILURES="1000000", CASAOS_API_RATE_USER="100000")
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
