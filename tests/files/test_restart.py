"""A tus upload survives a server restart: the offset lives in the database, the bytes on the target disk."""

import base64
import hashlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.conftest import ARTIFACTS, ROOT, _database_url, free_port

pytestmark = [pytest.mark.stack, pytest.mark.redis]
MIB = 1024 * 1024
CSRF = "c" * 32


class Daphne:
    """Our own daphne subprocess, to kill and start again mid-upload."""

    def __init__(self, env: dict[str, str]):
        self.port, self.env, self.proc = free_port(), env, None

    def start(self) -> None:
        log = (ARTIFACTS / "files-restart-daphne.log").open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                                      "casaos_site.asgi:application"], cwd=ROOT, env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("daphne did not start")

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture
def daphne(transactional_db, django_db_blocker, root, redis_client):
    ARTIFACTS.mkdir(exist_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test", "DATABASE_URL": _database_url(),
           "CASAOS_FILES_ROOT": str(root)}
    server = Daphne(env)
    server.start()
    yield server
    if server.proc.poll() is None:
        server.kill()


def _request(server, cookie, method, url, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request(method, url, body=body, headers={"Cookie": f"sessionid={cookie}; csrftoken={CSRF}",
                                                  "X-CSRFToken": CSRF, "Tus-Resumable": "1.0.0", **(headers or {})})
    response = conn.getresponse()
    response.read()
    return response


def _patch(server, cookie, url, offset, data):
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return _request(server, cookie, "PATCH", url, data, {"Upload-Offset": str(offset),
                                                         "Content-Type": "application/offset+octet-stream",
                                                         "Upload-Checksum": f"sha256 {digest}"})


def test_an_upload_resumes_after_the_server_is_killed_mid_request(daphne, admin_user, root):
    client = Client()
    client.force_login(admin_user)
    cookie = client.cookies["sessionid"].value
    data = os.urandom(3 * MIB)
    created = _request(daphne, cookie, "POST", "/api/files/uploads/", headers={
        "Upload-Length": str(len(data)), "Upload-Metadata": f"filename {base64.b64encode(b'big.bin').decode()},path "})
    assert created.status == 201
    url = urlsplit(created.getheader("Location")).path
    assert _patch(daphne, cookie, url, 0, data[:MIB]).status == 204

    # The second chunk is half sent when the server dies.
    sock = socket.create_connection(("127.0.0.1", daphne.port))
    head = (f"PATCH {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sessionid={cookie}; csrftoken={CSRF}\r\n"
            f"X-CSRFToken: {CSRF}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: {MIB}\r\n"
            f"Content-Type: application/offset+octet-stream\r\nContent-Length: {MIB}\r\n\r\n")
    sock.sendall(head.encode() + data[MIB:MIB + MIB // 2])
    daphne.kill()
    sock.close()

    daphne.start()
    resume = _request(daphne, cookie, "HEAD", url)
    assert resume.status == 200
    offset = int(resume.getheader("Upload-Offset"))
    assert offset == MIB  # what the server holds for sure; the torn request left nothing behind
    done = _patch(daphne, cookie, url, offset, data[offset:])
    assert done.status == 204 and done.getheader("Upload-Offset") == str(len(data))
    assert hashlib.sha256((root / "big.bin").read_bytes()).digest() == hashlib.sha256(data).digest()
    assert not [p for p in root.iterdir() if p.name.startswith(".casaos-upload")]
