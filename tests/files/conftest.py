"""Fixtures of the file manager tests: a fresh files root per test, API clients, tree snapshots, and a web server
subprocess of our own (`manage.py serve`, the server `make run` starts) to kill and start again."""

import contextlib
import ctypes
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from files import paths
from tests.conftest import ARTIFACTS, ROOT, _database_url, free_port

CSRF = "c" * 32
_libc = ctypes.CDLL(None, use_errno=True)


@pytest.fixture
def root(tmp_path, settings):
    """A fresh files root (and a sibling "root-x" to catch prefix tricks, plus an outside secret)."""
    base = tmp_path / "root"
    base.mkdir()
    (tmp_path / "root-x").mkdir()
    (tmp_path / "root-x" / "sibling.txt").write_text("sibling")
    (tmp_path / "outside.txt").write_text("secret outside")
    settings.FILES_ROOT = base
    paths._protected.cache_clear()
    yield base
    paths._protected.cache_clear()


@pytest.fixture
def disk(root):
    """disk(name, mib): a file system of that size mounted at <root>/<name> (tmpfs: the test suite runs as root,
    as `make test` must); every one made is unmounted afterwards."""
    mounts: list[Path] = []

    def make(name: str, mib: int) -> Path:
        mount = root / name
        mount.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mib}m", "tmpfs", str(mount)], check=True)
        mounts.append(mount)
        return mount

    yield make
    for mount in reversed(mounts):
        subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.fixture
def small_disk(disk):
    """A 4 MiB file system inside the root."""
    return disk("small", 4)


@pytest.fixture
def read_only_folder(root):
    """<root>/locked: a real read-only mount (a bind mount of itself, remounted read-only)."""
    folder = root / "locked"
    folder.mkdir()
    subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


@contextlib.contextmanager
def read_only_database():
    """The database refuses every write meanwhile, as one on a read-only disk does (SQLite's query_only,
    PostgreSQL's read-only transactions: the test needs transactional_db there, each statement its own)."""
    from django.db import connection

    on, off = (
        ("PRAGMA query_only = ON", "PRAGMA query_only = OFF")
        if connection.vendor == "sqlite"
        else ("SET default_transaction_read_only = on", "SET default_transaction_read_only = off")
    )
    with connection.cursor() as cursor:
        cursor.execute(on)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(off)


@pytest.fixture
def admin_api(admin_user, root):
    client = APIClient()
    client.force_login(admin_user)
    return client


@pytest.fixture
def member_api(member_user, root):
    client = APIClient()
    client.force_login(member_user)
    return client


def exchange(a: Path, b: Path) -> None:
    """Swap two names atomically (renameat2 RENAME_EXCHANGE): a folder and a link trade places, as an attacker with a
    shell on the host (or in an app with the folder mounted) does in a tight loop."""
    if _libc.renameat2(-100, os.fsencode(a), -100, os.fsencode(b), 2) != 0:  # -100: AT_FDCWD, 2: RENAME_EXCHANGE
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(a))


def snapshot(top: Path) -> dict:
    """Every entry under `top` (the parent of the root, so outside files count too) with size and mtime."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            found[str(p.relative_to(top))] = (st.st_size, st.st_mtime_ns, st.st_mode)
    return found


def body(response) -> bytes:
    """The whole body of a (possibly async streaming) response."""
    if not getattr(response, "streaming", False):
        return response.content
    if not response.is_async:
        return b"".join(response.streaming_content)
    from asgiref.sync import async_to_sync

    async def collect():
        return b"".join([chunk async for chunk in response.streaming_content])

    return async_to_sync(collect)()


# ---------------------------------------------------------------------------- a live server
class Server:
    """Our own web server subprocess (`manage.py serve`, as `make run` starts it), to kill and start again."""

    def __init__(self, env: dict[str, str]):
        self.port, self.proc = free_port(), None
        self.env = {**env, "CASAOS_BIND": f"127.0.0.1:{self.port}"}

    def start(self) -> None:
        log = (ARTIFACTS / "files-server.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start; see test-artifacts/files-server.log")

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def request(self, cookie: str, method: str, url: str, body=b"", headers=None) -> http.client.HTTPResponse:
        """One request with the session `cookie` (and a CSRF token); the body is read, then the response returned."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(
            method,
            url,
            body=body,
            headers={"Cookie": f"sessionid={cookie}; csrftoken={CSRF}", "X-CSRFToken": CSRF, **(headers or {})},
        )
        response = conn.getresponse()
        response.body = response.read()
        return response


@pytest.fixture
def server(transactional_db, django_db_blocker, root, redis_client, admin_user):
    # admin_user first: with an admin in the database the server prints no first-run setup token.
    ARTIFACTS.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test",
        "DATABASE_URL": _database_url(),
        "CASAOS_FILES_ROOT": str(root),
    }
    server = Server(env)
    server.start()
    yield server
    if server.proc.poll() is None:
        server.kill()
