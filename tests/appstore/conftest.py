"""App store fixtures: a loopback HTTP server publishing zips of store folders, LAN stores allowed."""

import contextlib
import functools
import os
import threading
import time
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.apps import conftest as apps_fixtures

FIXTURES = Path(__file__).parent / "fixtures"
ODD_STORE = FIXTURES / "oddstore"
V2_STORE = FIXTURES / "v2store"
# Installing from a store: a unique app name (cleaned up on the engine) and Docker as the engine.
app_name, docker_engine = apps_fixtures.app_name, apps_fixtures.docker_engine
SAMPLE_STORE = Path(__file__).resolve().parents[3] / "shared" / "appstore-samples" / "casaos-official"


class StoreServer:
    """Serves a folder over HTTP on 127.0.0.1, records (method, path, status) of every request and its Host header."""

    def __init__(self, root: Path, host: str = "127.0.0.1"):
        self.root = root
        self.requests: list[tuple[str, str, int]] = []
        self.hosts: list[str] = []
        self.drips_ended = threading.Event()  # set when a dripping answer stops (client gone or all sent)
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send_response(self, code, message=None):
                server.requests.append((self.command, self.path, code))
                server.hosts.append(self.headers.get("Host", ""))
                super().send_response(code, message)

            def do_GET(self):
                if self.path.startswith("/drip"):  # /drip/<seconds>/<name>, /drip-nolength/..., /drip-head/...
                    self._drip(*self.path.split("/")[1:3])
                    return
                if self.path.startswith("/slow/"):  # /slow/<seconds>/<name>: the file, after a pause
                    _slow, seconds, name = self.path.split("/", 3)[1:]
                    time.sleep(float(seconds))
                    self.path = "/" + name
                    with contextlib.suppress(OSError):  # the client may have given up meanwhile
                        super().do_GET()
                    return
                if self.path.startswith("/loop/"):  # redirects to itself, forever
                    self.path = "/redirect/" + self.path
                if self.path.startswith("/redirect/"):
                    self.send_response(302)
                    self.send_header("Location", unquote(self.path.removeprefix("/redirect/")))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path.startswith("/status/"):  # /status/503/<anything>: that answer, no body
                    self.send_response(int(self.path.split("/")[2]))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path.startswith(("/nolength/", "/broken/")):
                    self._raw(self.path.split("/", 2)[1], self.path.split("/", 2)[2])
                    return
                super().do_GET()

            def _drip(self, how: str, seconds: str) -> None:
                """One byte every `seconds`, 40 in all: of the body, or (drip-head) of the status line itself."""
                self.close_connection = True
                try:
                    if how == "drip-head":
                        server.requests.append((self.command, self.path, 200))
                        self._drip_bytes(b"HTTP/1.1 200 OK\r\n" + b"X: " + b"x" * 40, float(seconds))
                        return
                    self.send_response(200)
                    if how == "drip":
                        self.send_header("Content-Length", "40")
                    self.end_headers()
                    self._drip_bytes(b"x" * 40, float(seconds))
                except OSError:
                    pass  # the client hung up: what a deadline does
                finally:
                    server.drips_ended.set()

            def _drip_bytes(self, data: bytes, seconds: float) -> None:
                for byte in data:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(seconds)

            def _raw(self, how: str, name: str) -> None:
                """No Content-Length (the body ends when the connection does), or half the body, then a reset."""
                path = server.root / name
                size = path.stat().st_size
                self.close_connection = True
                self.send_response(200)
                if how == "broken":
                    self.send_header("Content-Length", str(size))
                self.end_headers()
                with path.open("rb") as body:  # in pieces: a test may measure the memory of this process
                    left = size if how == "nolength" else size // 2
                    while left > 0 and (chunk := body.read(min(left, 256 * 1024))):
                        self.wfile.write(chunk)
                        left -= len(chunk)
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer((host, 0), functools.partial(Handler, directory=str(root)))
        self.base = f"http://{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def publish_zip(
        self,
        src: Path,
        name: str,
        *,
        prefix: str = "store-main/",
        extra: dict[str, bytes] | None = None,
        skip: tuple[str, ...] = (),
    ) -> str:
        """Zip a store folder like GitHub's archive does (one top folder); {{BASE}} becomes this server's URL."""
        target = self.root / name
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(src.rglob("*")):
                rel = path.relative_to(src).as_posix()
                if path.is_file() and not any(rel.startswith(s) for s in skip):
                    data = path.read_bytes()
                    if path.suffix in (".yml", ".yaml", ".json"):
                        data = data.replace(b"{{BASE}}", self.base.encode())
                    zf.writestr(prefix + rel, data)
            for rel, data in (extra or {}).items():
                zf.writestr(prefix + rel, data)
        self.touch(name)
        return self.url(name)

    def put(self, name: str, data: bytes) -> str:
        (self.root / name).parent.mkdir(parents=True, exist_ok=True)
        (self.root / name).write_bytes(data)
        self.touch(name)
        return self.url(name)

    def touch(self, name: str) -> None:
        # Last-Modified has one-second resolution: make every new version visibly newer.
        stamp = time.time() + 10 * len(self.requests) + 10
        os.utime(self.root / name, (stamp, stamp))

    def gets(self, name: str) -> list[int]:
        return [code for method, path, code in self.requests if method == "GET" and path == f"/{name}"]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def store_server(tmp_path):
    server = StoreServer(tmp_path / "www")
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "remote-icon.png").write_bytes((FIXTURES / "remote-icon.png").read_bytes())
    yield server
    server.close()


@pytest.fixture(autouse=True)
def appstore_dir(settings, tmp_path):
    """Each test writes stores and assets under its own folder."""
    settings.APPSTORE_DIR = tmp_path / "appstore"
    return settings.APPSTORE_DIR


@pytest.fixture
def allow_lan(db):
    from appstore.models import AppstoreSettings

    obj = AppstoreSettings.load()
    obj.allow_lan_stores = True
    obj.save()
    return obj


@pytest.fixture
def sample_store():
    if not (SAMPLE_STORE / "Apps").is_dir():
        pytest.skip(f"the official sample store is not at {SAMPLE_STORE}")
    return SAMPLE_STORE


def make_store(*, url: str = "", path: str = "", name: str = "test store"):
    """A store row without queueing anything (tests call store_sync_run themselves)."""
    from appstore.services import store_create

    return store_create(user=None, url=url, path=path, name=name, sync=False)


def sync(store):
    from appstore.services import store_sync_run

    store_sync_run(store_id=store.pk)
    store.refresh_from_db()
    return store


@pytest.fixture
def default_store(db):
    """The store the data migration configures; a transactional test that ran before (same process) flushed it."""
    from django.conf import settings

    from appstore.models import Store

    store, _ = Store.objects.get_or_create(
        is_default=True, defaults={"name": "CasaOS official", "kind": "zip", "url": settings.APPSTORE_DEFAULT_STORE_URL}
    )
    return store
