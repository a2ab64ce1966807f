"""Part 2 through a real Caddy: an app reached by its name over HTTPS (internal CA trusted), websockets and large
uploads passing through, and what a visitor may not smuggle to the app (forwarding headers, our user header, our
app-session cookie)."""

import base64
import hashlib
import json
import os
import socket
import subprocess
import uuid

import pytest

from apps.models import Installation
from proxy.models import AppAddress
from proxy.services import proxy_push

from .app_server import WS_GUID
from .conftest import DOMAIN, fetch, root_ready, tls_context, wait_for_certificate

pytestmark = pytest.mark.django_db
HOST = f"notes.{DOMAIN}"


@pytest.fixture
def served(proxy_settings, caddy, app_server):
    """The app `notes` at notes.casa.test, its web port the small local app; returns the trusted root."""
    inst = Installation.objects.create(name="notes", compose="services: {}", status="running", web_port=app_server.port)
    AppAddress.objects.create(installation=inst, name="notes")
    proxy_push()
    ca = root_ready(caddy)
    wait_for_certificate(HOST, caddy.https_port, ca)
    return ca


def test_an_app_is_reached_by_its_name_over_https(served, caddy):
    reply = fetch(HOST, caddy.https_port, "/some/page?x=1", ca=served)
    assert reply.status == 200
    seen = json.loads(reply.body)
    assert seen["path"] == "/some/page?x=1"
    assert seen["headers"]["host"] == f"{HOST}:{caddy.https_port}"


def test_a_visitor_cannot_smuggle_headers_or_read_our_cookie(served, caddy):
    spoofed = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Proto": "http",
        "X-Casaos-User": "admin",
        "X-Casaos-Proxy-Secret": "guess",
        "Cookie": "casaos_sso=stolen; theirs=1",
    }
    seen = json.loads(fetch(HOST, caddy.https_port, "/", ca=served, headers=spoofed).body)["headers"]
    assert seen["x-forwarded-for"] == "127.0.0.1"  # Caddy's own view of the client, not the visitor's claim
    assert seen["x-forwarded-proto"] == "https"
    assert "x-casaos-user" not in seen and "x-casaos-proxy-secret" not in seen
    assert seen["cookie"] == "theirs=1"  # the app never sees our app-session cookie


def test_websockets_pass_through(served, caddy):
    key = base64.b64encode(os.urandom(16)).decode()
    raw = socket.create_connection(("127.0.0.1", caddy.https_port), timeout=10)
    with tls_context(served).wrap_socket(raw, server_hostname=HOST) as sock:
        sock.sendall(
            (
                f"GET /ws HTTP/1.1\r\nHost: {HOST}:{caddy.https_port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = _read_until(sock, b"\r\n\r\n").decode()
        assert head.startswith("HTTP/1.1 101"), head
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        assert f"Sec-Websocket-Accept: {accept}".lower() in head.lower()
        frame = _masked_text_frame("hello through the proxy")
        sock.sendall(frame)
        assert _read_exactly(sock, len(frame)) == frame  # the upgraded connection carries bytes both ways


def test_a_large_upload_streams_through(served, caddy):
    size = 48 * 1024 * 1024
    block = os.urandom(1024 * 1024)
    digest = hashlib.sha256()
    for _ in range(size // len(block)):
        digest.update(block)

    def body():
        for _ in range(size // len(block)):
            yield block

    from .conftest import connect

    conn = connect(HOST, caddy.https_port, ca=served, timeout=120)
    conn.request(
        "POST", "/upload", body=body(), headers={"Host": f"{HOST}:{caddy.https_port}", "Content-Length": str(size)}
    )
    got = json.loads(conn.getresponse().read())
    conn.close()
    assert got == {"size": size, "sha256": digest.hexdigest()}


def test_an_app_without_a_web_port_says_so(served, caddy):
    Installation.objects.filter(name="notes").update(web_port=None)
    proxy_push()
    reply = fetch(HOST, caddy.https_port, "/", ca=served)
    assert reply.status == 503 and b"no web page" in reply.body


@pytest.mark.docker
def test_a_real_app_container_is_reached_by_name(proxy_settings, caddy, engine, registry):
    name = f"proxy-t{uuid.uuid4().hex[:8]}"
    run = ["docker", "run", "-d", "--name", name, "-p", "127.0.0.1::8080", f"{registry}/casa/httpd:1"]
    subprocess.run(run, check=True, capture_output=True)
    try:
        port = subprocess.run(["docker", "port", name, "8080/tcp"], check=True, capture_output=True, text=True)
        inst = Installation.objects.create(
            name="hello", compose="services: {}", status="running", web_port=int(port.stdout.split(":")[-1])
        )
        AppAddress.objects.create(installation=inst, name="hello")
        proxy_push()
        ca = root_ready(caddy)
        wait_for_certificate(f"hello.{DOMAIN}", caddy.https_port, ca)
        reply = fetch(f"hello.{DOMAIN}", caddy.https_port, "/", ca=ca)
        assert reply.status == 200 and b"hello v1" in reply.body
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def _masked_text_frame(text: str) -> bytes:
    data = text.encode()
    mask = os.urandom(4)
    return bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def _read_until(sock, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _read_exactly(sock, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data
