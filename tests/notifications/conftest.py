"""Local receivers for the channels: a real SMTP server (aiosmtpd), an HTTP server for web hooks and push."""

import base64
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from notifications import tasks
from tests.conftest import free_port


class MailBox:
    """An aiosmtpd handler keeping what it received."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def smtp_server():
    box = MailBox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


class Received:
    def __init__(self):
        self.requests: list[dict] = []
        self.status = 201


@pytest.fixture
def http_receiver():
    """An HTTP server on 127.0.0.1 that keeps each POST (path, lower-cased headers, body) and answers `status`."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {key.lower(): value for key, value in self.headers.items()}
            received.requests.append({"path": self.path, "headers": headers, "body": body})
            self.send_response(received.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    received.port = server.server_address[1]
    yield received
    server.shutdown()
    server.server_close()


@pytest.fixture
def eager_deliveries(monkeypatch, settings):
    """Deliveries run at once in the test (retries too, without their wait), like a worker would run them."""
    settings.NOTIFY_RETRIES = 3
    monkeypatch.setattr(tasks.deliver, "delay", lambda pk: tasks.deliver.apply(args=[pk]))


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture
def browser_keys():
    """What a browser makes when it subscribes: an EC P-256 key pair and a 16-byte auth secret."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    auth = os.urandom(16)
    return {"private": private, "auth": auth, "keys": {"p256dh": b64url(public), "auth": b64url(auth)}}
