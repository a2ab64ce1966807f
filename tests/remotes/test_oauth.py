"""Cloud drives through rclone's own OAuth flow, against a fake OAuth provider on loopback: the browser is not on
the box, so the test plays the admin's browser (it follows the provider's redirect by hand and pastes the address)."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from remotes.host import rclone
from remotes.models import Remote
from remotes.services import secrets_of

from .conftest import free_port, wait_port

# rclone authorize listens on one fixed port of the host (53682): alone, after the parallel part, where no fuzzer of a
# live stack starts an authorisation of its own beside it.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.serial]


def _leftover_authorizations() -> list[int]:
    """`rclone authorize` processes left by other stacks of this suite (each waits up to 10 minutes on the port)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"authorize" in argv and any(part.endswith(b"rclone") for part in argv):
            found.append(int(proc.name))
    return found


@pytest.fixture(autouse=True)
def _auth_port_free():
    for pid in _leftover_authorizations():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", rclone.AUTH_PORT)) != 0:
                return
        time.sleep(0.2)
    pytest.fail(f"port {rclone.AUTH_PORT} stays busy: another rclone authorize holds it")


PROVIDER = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit


class Provider(BaseHTTPRequestHandler):
    def do_GET(self):  # the sign-in page: the user agrees at once
        query = parse_qs(urlsplit(self.path).query)
        self.send_response(302)
        self.send_header("Location", query["redirect_uri"][0] + "?code=THE-CODE&state=" + query["state"][0])
        self.end_headers()

    def do_POST(self):  # the token endpoint: only for the right code and client secret
        body = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        good = body.get("code") == ["THE-CODE"] and self.headers.get("Authorization") == "Basic aWQtMTpjbGllbnQtc2VjcmV0"
        out = json.dumps({"access_token": "ACCESS-42", "token_type": "bearer", "refresh_token": "R", "expires_in": 3600})
        self.send_response(200 if good else 400)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(out.encode() if good else b"{}")


HTTPServer(("127.0.0.1", int(sys.argv[1])), Provider).serve_forever()
"""


@pytest.fixture
def provider(tmp_path):
    script = tmp_path / "provider.py"
    script.write_text(PROVIDER)
    port = free_port()
    child = subprocess.Popen([sys.executable, str(script), str(port)], stderr=subprocess.DEVNULL)
    wait_port(port, child)
    yield f"http://127.0.0.1:{port}"
    child.terminate()
    child.wait()


@pytest.fixture
def drive(provider, remote_dirs, admin_user):
    client = APIClient()
    client.force_login(admin_user)
    options = {"client_id": "id-1", "auth_url": f"{provider}/auth", "token_url": f"{provider}/token"}
    made = client.post("/api/remotes/", {"name": "Box", "kind": "dropbox", "options": options,
                       "secrets": {"client_secret": "client-secret"}}, format="json")  # fmt: skip
    assert made.status_code == 201, made.content
    assert made.json()["state"] == "authorizing"
    return client, Remote.objects.get()


def browser_lands_on(url: str) -> str:
    """What the admin's browser ends on after signing in: the provider's redirect, which it cannot load."""
    return rclone.redirect_of(url)


def test_a_drive_is_authorised_through_rclone_from_a_browser_elsewhere(drive, provider):
    client, remote = drive
    started = client.post(f"/api/remotes/{remote.pk}/authorize/")
    assert started.status_code == 200, started.content
    url = started.json()["url"]
    assert url.startswith(f"{provider}/auth?client_id=id-1") and "client-secret" not in url
    landed = browser_lands_on(url)
    assert landed.startswith("http://localhost:53682/?code=THE-CODE")

    finished = client.post(f"/api/remotes/{remote.pk}/authorize/finish/", {"answer": landed}, format="json")
    assert finished.status_code == 200, finished.content
    remote.refresh_from_db()
    assert json.loads(secrets_of(remote)["token"])["access_token"] == "ACCESS-42"
    assert finished.json()["secrets_set"] == ["client_secret", "token"] and "ACCESS-42" not in finished.content.decode()
    assert "ACCESS-42" not in json.dumps(list(AuditEvent.objects.values()), default=str)
    assert remote.state == "unmounted"


def test_a_token_made_elsewhere_can_be_pasted(drive):
    client, remote = drive
    pasted = (
        'Paste the following into your remote machine --->\n{"access_token":"T2","token_type":"bearer"}\n<---End paste'
    )
    finished = client.post(f"/api/remotes/{remote.pk}/authorize/finish/", {"answer": pasted}, format="json")
    assert finished.status_code == 200
    remote.refresh_from_db()
    assert json.loads(secrets_of(remote)["token"])["access_token"] == "T2"


@pytest.mark.parametrize(
    "answer",
    ["http://evil.example:53682/?code=x&state=y", "http://localhost:53682/?code=x", "{not json", '{"token": 1}'],
)
def test_a_pasted_address_is_never_opened_and_must_be_ours(drive, answer, monkeypatch):
    client, remote = drive
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("an address was opened"))
    finished = client.post(f"/api/remotes/{remote.pk}/authorize/finish/", {"answer": answer}, format="json")
    assert finished.status_code == 400
