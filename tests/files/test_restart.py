"""A tus upload survives a server restart: the offset lives in the database, the bytes on the target disk."""

import base64
import hashlib
import os
import socket
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.files.conftest import CSRF

pytestmark = [pytest.mark.stack, pytest.mark.redis]
MIB = 1024 * 1024


def _request(server, cookie, method, url, body=b"", headers=None):
    return server.request(cookie, method, url, body, {"Tus-Resumable": "1.0.0", **(headers or {})})


def _patch(server, cookie, url, offset, data):
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return _request(
        server,
        cookie,
        "PATCH",
        url,
        data,
        {
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Upload-Checksum": f"sha256 {digest}",
        },
    )


def test_an_upload_resumes_after_the_server_is_killed_mid_request(server, admin_user, root):
    client = Client()
    client.force_login(admin_user)
    cookie = client.cookies["sessionid"].value
    data = os.urandom(3 * MIB)
    created = _request(
        server,
        cookie,
        "POST",
        "/api/files/uploads/",
        headers={
            "Upload-Length": str(len(data)),
            "Upload-Metadata": f"filename {base64.b64encode(b'big.bin').decode()},path ",
        },
    )
    assert created.status == 201
    url = urlsplit(created.getheader("Location")).path
    assert _patch(server, cookie, url, 0, data[:MIB]).status == 204

    # The second chunk is half sent when the server dies.
    sock = socket.create_connection(("127.0.0.1", server.port))
    head = (
        f"PATCH {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sessionid={cookie}; csrftoken={CSRF}\r\n"
        f"X-CSRFToken: {CSRF}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: {MIB}\r\n"
        f"Content-Type: application/offset+octet-stream\r\nContent-Length: {MIB}\r\n\r\n"
    )
    sock.sendall(head.encode() + data[MIB : MIB + MIB // 2])
    server.kill()
    sock.close()

    server.start()
    resume = _request(server, cookie, "HEAD", url)
    assert resume.status == 200
    offset = int(resume.getheader("Upload-Offset"))
    assert offset == MIB  # what the server holds for sure; the torn request left nothing behind
    done = _patch(server, cookie, url, offset, data[offset:])
    assert done.status == 204 and done.getheader("Upload-Offset") == str(len(data))
    assert hashlib.sha256((root / "big.bin").read_bytes()).digest() == hashlib.sha256(data).digest()
    assert not [p for p in root.iterdir() if p.name.startswith(".casaos-upload")]
