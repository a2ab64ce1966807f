"""The web server as `make run` starts it (manage.py serve): large downloads wait for the client instead of
piling up in the server's memory, and large uploads and Range requests come through whole."""

import base64
import hashlib
import http.client
import os
import time
from urllib.parse import urlsplit

import psutil
import pytest
from django.test import Client

pytestmark = [pytest.mark.stack, pytest.mark.redis]
MIB = 1024 * 1024


def _cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _rss(server) -> int:
    return psutil.Process(server.proc.pid).memory_info().rss


def test_a_slow_reader_does_not_make_the_server_hold_the_whole_file(server, admin_user, root):
    data = os.urandom(MIB) * 192  # 192 MiB; without back-pressure the server buffers all of it at once
    (root / "big.bin").write_bytes(data)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("GET", "/api/files/content/?path=big.bin", headers={"Cookie": f"sessionid={_cookie(admin_user)}"})
    response = conn.getresponse()
    assert response.status == 200
    before = _rss(server)
    first = response.read(MIB)
    peak = before
    for _ in range(10):  # the client reads nothing for a second: the server must wait, not read ahead
        time.sleep(0.1)
        peak = max(peak, _rss(server))
    assert peak - before < 48 * MIB, f"the server grew by {(peak - before) // MIB} MiB for a stalled download"
    digest = hashlib.sha256(first)
    while block := response.read(4 * MIB):
        digest.update(block)
    assert digest.digest() == hashlib.sha256(data).digest()


def test_range_requests_and_a_streamed_upload_come_through_the_real_server(server, admin_user, root):
    cookie = _cookie(admin_user)
    data = os.urandom(9 * MIB + 123)
    meta = f"filename {base64.b64encode(b'up.bin').decode()},path "
    created = server.request(
        cookie,
        "POST",
        "/api/files/uploads/",
        headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)), "Upload-Metadata": meta},
    )
    assert created.status == 201
    url = urlsplit(created.getheader("Location")).path
    done = server.request(
        cookie,
        "PATCH",
        url,
        data,
        {
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
            "Upload-Checksum": "sha1 " + base64.b64encode(hashlib.sha1(data).digest()).decode(),
        },
    )
    assert done.status == 204 and done.getheader("Upload-Offset") == str(len(data))
    assert (root / "up.bin").read_bytes() == data
    part = server.request(cookie, "GET", "/api/files/content/?path=up.bin", headers={"Range": "bytes=4194000-8388700"})
    assert part.status == 206 and part.body == data[4194000:8388701]
    head = server.request(cookie, "HEAD", "/api/files/content/?path=up.bin")
    assert head.status == 200 and head.getheader("Content-Length") == str(len(data)) and head.body == b""
