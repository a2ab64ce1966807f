"""A real Caddy (Debian's) with its admin API on a socket of the test's own, test ports instead of 80/443, and our
web server behind it as `make run` starts it with CASAOS_PROXY=1."""

from __future__ import annotations

import html
import http.client
import os
import re
import shutil
import socket
import ssl
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from apps.models import Installation
from proxy.host.caddy import caddy_start, caddy_stop, root_certificate
from proxy.models import AppAddress, ProxySettings
from proxy.services import proxy_push
from tests.conftest import LiveStack, _database_url, free_port, missing

from .app_server import AppServer

DOMAIN = "casa.test"
HOST = f"notes.{DOMAIN}"  # the app the tests give an address


@pytest.fixture(scope="module")
def caddy(tmp_path_factory):
    """Caddy running with nothing served until a test loads a configuration."""
    if not shutil.which("caddy"):
        missing("caddy is missing; scripts/setup.sh installs Debian's caddy")
    storage = tmp_path_factory.mktemp("caddy")
    log = (storage / "caddy.log").open("ab")
    proc = caddy_start(socket_path=storage / "admin.sock", storage=storage, log=log)
    yield CaddyRun(storage, free_port(), free_port())
    caddy_stop(proc)
    log.close()


@dataclass(frozen=True)
class CaddyRun:
    storage: Path
    https_port: int
    http_port: int

    @property
    def socket(self) -> Path:
        return self.storage / "admin.sock"

    @property
    def root(self) -> Path:
        return root_certificate(self.storage)


@pytest.fixture
def proxy_settings(settings, caddy):
    """Our settings pointed at the test's Caddy; the box's domain is casa.test."""
    settings.PROXY_DIR = caddy.storage
    settings.PROXY_ADMIN_SOCKET = caddy.socket
    settings.PROXY_HTTPS_PORT = caddy.https_port
    settings.PROXY_HTTP_PORT = caddy.http_port
    settings.PROXY_LISTEN = "127.0.0.1"
    ProxySettings.objects.update_or_create(pk=1, defaults={"domain": DOMAIN, "https": True})
    return settings


class ProxiedWeb(LiveStack):
    """Our web server alone (daphne, as `manage.py serve` tunes it) with CASAOS_PROXY=1, on the test database.
    No worker: nothing these tests do queues work, and a second worker would take the shared stack's tasks."""

    def start(self) -> None:
        self.env = {**self.env, "CASAOS_BIND": f"127.0.0.1:{self.port}", "CASAOS_PROXY": "1"}
        token = settings.DATA_DIR / "setup-token"
        token_was_there = token.exists()
        self.spawn("daphne-proxied", sys.executable, "manage.py", "serve")
        deadline = time.monotonic() + 30
        while not _answers(self.port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"daphne did not start; see {self.log_path('daphne-proxied')}")
            time.sleep(0.2)
        if not token_was_there:
            token.unlink(missing_ok=True)  # as LiveStack does: a token left behind would send pages to the setup


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def web(django_db_setup, django_db_blocker, caddy):
    with django_db_blocker.unblock():
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test", "DATABASE_URL": _database_url()}
    env.update(  # the same proxy as the test's: its ports are in the addresses our server sends visitors to
        CASAOS_PROXY_DIR=str(caddy.storage),
        CASAOS_PROXY_HTTPS_PORT=str(caddy.https_port),
        CASAOS_PROXY_HTTP_PORT=str(caddy.http_port),
    )
    stack = ProxiedWeb(env)
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture
def behind_caddy(transactional_db, proxy_settings, web):
    """Caddy sends the admin to our proxied web server (the address it listens on, as the plan reads it)."""
    from system.models import SystemSettings

    proxy_settings.BIND = f"127.0.0.1:{web.port}"
    SystemSettings.objects.update_or_create(pk=1, defaults={"web_bind_running": ""})
    return proxy_settings


@pytest.fixture(scope="module")
def app_server():
    server = AppServer()
    yield server
    server.close()


@pytest.fixture
def guarded(behind_caddy, caddy, app_server):
    """notes.casa.test requires our login; returns the trusted root certificate."""
    inst = Installation.objects.create(name="notes", compose="services: {}", status="running", web_port=app_server.port)
    AppAddress.objects.create(installation=inst, name="notes", require_login=True)
    proxy_push()
    ca = root_ready(caddy)
    for host in (DOMAIN, HOST):
        wait_for_certificate(host, caddy.https_port, ca)
    return inst, ca


# ---------------------------------------------------------------------------- a client that resolves our names
@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def cookies(self) -> list[str]:
        return self.headers.get_all("Set-Cookie") or []


def tls_context(ca: Path) -> ssl.SSLContext:
    """Trusts only the internal CA's root, as a device that installed it from the Settings page."""
    return ssl.create_default_context(cafile=str(ca))


def connect(host: str, port: int, *, ca: Path | None, timeout: float = 30) -> http.client.HTTPConnection:
    """A connection to Caddy on 127.0.0.1 for `host` (its SNI and Host): no DNS needed for *.casa.test."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    if ca is not None:  # TLS verified against the root only, for this name
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        conn.sock = tls_context(ca).wrap_socket(raw, server_hostname=host)
    return conn


def fetch(host, port, path="/", *, ca=None, method="GET", headers=None, body=None) -> Reply:
    conn = connect(host, port, ca=ca)
    try:
        sent = {"Host": host if port in (80, 443) else f"{host}:{port}", **(headers or {})}
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def wait_for_certificate(host: str, port: int, ca: Path, seconds: float = 30) -> None:
    """Caddy issues certificates just after a load; poll the handshake until this name has one."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                tls_context(ca).wrap_socket(raw, server_hostname=host).close()
            return
        except (ssl.SSLError, OSError, FileNotFoundError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def root_ready(caddy: CaddyRun, seconds: float = 30) -> Path:
    deadline = time.monotonic() + seconds
    while not caddy.root.is_file():
        if time.monotonic() > deadline:
            raise AssertionError(f"Caddy wrote no root certificate under {caddy.storage}")
        time.sleep(0.1)
    return caddy.root


def sso_continue_url(page: bytes) -> str:
    """Where the hand-over page moves on to (its meta refresh and its link say the same)."""
    refresh = re.search(rb'http-equiv="refresh" content="0;url=([^"]+)"', page).group(1).decode()
    link = re.search(rb'href="([^"]+)" id="sso-continue"', page).group(1).decode()
    assert html.unescape(refresh) == html.unescape(link)
    return html.unescape(refresh)
