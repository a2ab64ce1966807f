"""The data directory turns read-only under a running server (a remount, a failing disk): /healthz names it, and
every write answers 503 naming it, JSON in the API and a plain page elsewhere, while reads still work.

Real processes and a real read-only folder: a server of this test's own on a fresh data directory, which is then
bind-mounted read-only over itself (root is not stopped by file modes).
"""

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, free_port, missing

pytestmark = [pytest.mark.stack]
PASSWORD = "a long passphrase for the read-only test"


def _manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def _mount_read_only(folder: Path) -> None:
    subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
    subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True)


def _unmount(folder: Path) -> None:
    for _ in range(20):
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode == 0:
            return
        time.sleep(0.25)
    subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def read_only_server(redis_client):
    """(url, token, id of a second token, data dir): a server whose data directory has just become read-only."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        missing("a read-only bind mount needs root and mount(8)")
    data = Path(tempfile.mkdtemp(prefix="casa-ro-"))
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "casaos_site.settings",
        "CASAOS_DATA_DIR": str(data),
        "CASAOS_BIND": f"127.0.0.1:{port}",
        "DJANGO_SUPERUSER_USERNAME": "admin",
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
    }
    env.pop("DATABASE_URL", None)  # its own SQLite database, in that data directory
    _manage(env, "migrate", "--noinput")
    _manage(env, "createsuperuser", "--noinput")
    token = _manage(env, "apitoken", "admin", "--scope", "full")
    _manage(env, "apitoken", "admin", "--name", "other")
    log = (data / "server.log").open("ab")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    held = None
    mounted = False
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_serving(url, server)
        auth = {"Authorization": f"Bearer {token}"}
        assert requests.get(f"{url}/api/me/", headers=auth, timeout=10).status_code == 200  # its one write: last use
        tokens = requests.get(f"{url}/api/tokens/", headers=auth, timeout=10).json()
        other_id = next(t["id"] for t in tokens if t["name"] == "other")
        # A long-running process (the events listener, the monitor) keeps the database open, as on a real host.
        held = sqlite3.connect(data / "casaos.sqlite3")
        held.execute("SELECT 1 FROM django_migrations").fetchall()
        _mount_read_only(data)
        mounted = True
        yield url, token, other_id, data
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=10)
        if server.poll() is None:
            server.kill()
        if held is not None:
            held.close()
        if mounted:
            _unmount(data)
        shutil.rmtree(data, ignore_errors=True)


def _wait_until_serving(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert server.poll() is None, "the server exited"
        with contextlib.suppress(requests.RequestException):
            requests.get(f"{url}/login/", timeout=2)
            return
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.2)


def test_a_read_only_data_directory_is_named_by_healthz_and_every_write(read_only_server):
    url, token, other_id, data = read_only_server
    auth = {"Authorization": f"Bearer {token}"}

    health = requests.get(f"{url}/healthz", timeout=30)
    assert health.status_code == 503
    database = health.json()["checks"]["database"]
    assert database.startswith("database is read-only") and str(data) in database, database

    assert requests.get(f"{url}/api/me/", headers=auth, timeout=10).status_code == 200  # reads still work

    refused = requests.delete(f"{url}/api/tokens/{other_id}/", headers=auth, timeout=10)  # a write, in the API
    assert refused.status_code == 503
    assert refused.headers["Content-Type"].startswith("application/json")
    assert refused.json()["code"] == "database" and "read-only" in refused.json()["detail"]

    browser = requests.Session()  # a write from a page: logging in stores a session
    form = browser.get(f"{url}/login/", timeout=10).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    page = browser.post(
        f"{url}/login/",
        data={"csrfmiddlewaretoken": csrf, "username": "admin", "password": PASSWORD},
        headers={"Referer": f"{url}/login/"},
        timeout=30,
    )
    assert page.status_code == 503
    assert "read-only" in page.text and str(data) in page.text
