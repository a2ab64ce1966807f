"""Schemathesis against a live server, from our own OpenAPI schema: no server error, and no status the schema does
not document. The read-token and full-token runs are files of their own (test_schemathesis_read.py and
test_schemathesis_full.py): each takes minutes, and xdist gives each file to one worker."""

import subprocess
import sys
from pathlib import Path

import requests

from tests.conftest import ARTIFACTS

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


# How hard each run tries: the coverage phase (every boundary value of every field) is most of the cases.
THOROUGH = ("--phases", "coverage,fuzzing", "--max-examples", "6")
LIGHT = ("--phases", "fuzzing", "--max-examples", "2")


def fuzz(url: str, token: str, tmp_path: Path, name: str, *selection: str, effort=THOROUGH) -> None:
    """Run schemathesis against `url` with `token` on the operations `selection` picks (its --include-/--exclude-
    options; all by default); its log goes to test-artifacts/schemathesis-<name>.log."""
    headers = {"Authorization": f"Bearer {token}"}
    tmp_path.mkdir(exist_ok=True)
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
    argv += ["--checks", "not_a_server_error,status_code_conformance", *effort, *selection]
    # One worker: under two, hypothesis describes strategies through `ast` from two threads at once, which
    # CPython 3.11 reports as "AST constructor recursion depth mismatch" (a runtime error, not our server's).
    argv += ["--workers", "1", "--seed", "20261206", "--no-color"]
    run = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"schemathesis-{name}.log").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, _report(run.stdout)
    assert "Tested: " in run.stdout and "server error" not in run.stdout.lower()


def _report(out: str) -> str:
    """The errors and failures sections (they come before the long warnings), then the summary."""
    start = min((i for i in (out.find("= ERRORS ="), out.find("= FAILURES =")) if i >= 0), default=0)
    return out[start : start + 6000] + "\n[…]\n" + out[-2500:]
