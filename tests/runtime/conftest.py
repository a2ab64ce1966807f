"""Engine fixtures: every integration test runs against Docker and Podman through the same DockerEngine."""

from __future__ import annotations

import io
import os
import tarfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import runtime
from runtime import labels as L
from runtime.errors import EngineError
from tests.conftest import REGISTRY, missing

ENGINES = {
    "docker": "unix:///var/run/docker.sock",
    "podman": "unix:///run/podman/podman.sock",
}
PAYLOAD = 4 << 20  # with slow_registry this spreads over ~30 blob chunks
HTTPD = f"{REGISTRY}/casa/httpd:1"
BUSYBOX = f"{REGISTRY}/casa/busybox:1"


@pytest.fixture(scope="session", params=list(ENGINES), ids=list(ENGINES))
def any_engine(request, registry) -> runtime.Engine:
    """Docker, then Podman; skipped (failed under `make test`) only when that socket does not answer."""
    url = ENGINES[request.param]
    engine = runtime.get_engine(url)
    try:
        info = engine.version()
    except EngineError as exc:
        missing(f"{request.param} does not answer at {url} ({exc}); run scripts/test-services.sh")
    assert info.engine == request.param
    for image in (HTTPD, BUSYBOX):  # Podman has its own image store: make sure the test images are there
        if not engine.image_exists(image):
            engine.pull(image)
    return engine


@pytest.fixture
def project(any_engine) -> Iterator[str]:
    """A unique project name; everything labelled with it is removed afterwards, whatever the test did."""
    name = f"rt-{uuid.uuid4().hex[:10]}"
    yield name
    app = {L.APP: name}
    for info in any_engine.list(app):
        any_engine.remove(info.id, force=True, volumes=True)
    for net in any_engine.list_networks(app):
        any_engine.remove_network(net.id)
    for vol in any_engine.list_volumes(app):
        any_engine.remove_volume(vol.name, force=True)


@pytest.fixture
def fresh_image(registry) -> Iterator[str]:
    """A never-seen image in the loopback registry (busybox plus random bytes), absent from every engine.

    Pulling it moves real bytes, so progress events carry real sizes. Built with docker-py directly: the
    interface under test has no build/push on purpose.
    """
    import docker

    try:
        client = docker.APIClient(base_url=ENGINES["docker"], version="auto")
    except docker.errors.DockerException as exc:
        missing(f"Docker is needed to build the test image ({exc})")
    repo, tag = f"{REGISTRY}/casa-rt/fresh", uuid.uuid4().hex[:12]
    client.import_image_from_data(_rootfs_tar(), repository=repo, tag=tag)
    for line in client.push(repo, tag=tag, stream=True, decode=True):
        assert "error" not in line, line
    client.remove_image(f"{repo}:{tag}", force=True)
    yield f"{repo}:{tag}"
    _registry_delete("casa-rt/fresh", tag)


def _rootfs_tar() -> bytes:
    """A minimal rootfs: static busybox as /bin/sh plus an incompressible payload."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(os.path.realpath("/bin/busybox"), arcname="bin/busybox")
        link = tarfile.TarInfo("bin/sh")
        link.type, link.linkname = tarfile.SYMTYPE, "busybox"
        tar.addfile(link)
        payload = os.urandom(PAYLOAD)
        info = tarfile.TarInfo("payload.bin")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def _registry_delete(name: str, tag: str) -> None:
    """Drop the test manifest again (the registry runs with delete enabled); best effort."""
    accept = "application/vnd.docker.distribution.manifest.v2+json"
    try:
        head = urllib.request.Request(
            f"http://{REGISTRY}/v2/{name}/manifests/{tag}", method="HEAD", headers={"Accept": accept}
        )
        with urllib.request.urlopen(head, timeout=5) as resp:
            digest = resp.headers["Docker-Content-Digest"]
        delete = urllib.request.Request(f"http://{REGISTRY}/v2/{name}/manifests/{digest}", method="DELETE")
        urllib.request.urlopen(delete, timeout=5).close()
    except OSError:
        pass


@pytest.fixture(scope="session")
def casaos_samples() -> Path:
    """The real CasaOS app store (167 apps), shared outside the repository."""
    root = Path(__file__).resolve().parents[3] / "shared" / "appstore-samples" / "casaos-official" / "Apps"
    if not root.is_dir():
        pytest.skip(f"the CasaOS app-store samples are not at {root}")
    return root


@pytest.fixture
def slow_registry(registry) -> Iterator[str]:
    """A loopback proxy in front of the registry that dribbles blobs, so a pull spans many progress ticks.

    Loopback pulls finish within one of Docker's progress intervals; without this the byte counts would be
    asserted on a single event. Docker treats every 127.0.0.0/8 registry as insecure, so no config is needed.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowProxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _SlowProxy(BaseHTTPRequestHandler):
    """Forwards GET/HEAD to the registry; blob bodies go out in 128 KiB pieces every 20 ms."""

    def do_HEAD(self) -> None:
        self._forward(body=False)

    def do_GET(self) -> None:
        self._forward(body=True)

    def _forward(self, *, body: bool) -> None:
        headers = {k: ", ".join(self.headers.get_all(k) or []) for k in ("Accept", "Range") if k in self.headers}
        request = urllib.request.Request(f"http://{REGISTRY}{self.path}", method=self.command, headers=headers)
        try:
            resp = urllib.request.urlopen(request, timeout=30)
        except urllib.error.HTTPError as exc:
            resp = exc
        with resp:
            self.send_response(resp.status)
            for key, value in resp.headers.items():
                if key.lower() not in ("connection", "transfer-encoding", "date", "server"):
                    self.send_header(key, value)
            self.end_headers()
            while body and (chunk := resp.read(128 << 10)):
                self.wfile.write(chunk)
                if "/blobs/" in self.path:
                    time.sleep(0.02)

    def log_message(self, *args) -> None:  # keep test output clean
        pass


def free_region(engine: runtime.Engine, prefix: int = 22) -> str:
    """A part of the default app pool that no network and no route of this machine overlaps now.

    Taken from the pool's end, where apps installed meanwhile by tests in other processes do not go (they take the
    lowest free subnets), and from a /22 of its own per xdist worker, so two such tests running at once never share.
    """
    from runtime.subnets import DEFAULT_POOL, SubnetPool, host_routes, parse_subnets

    used = [*parse_subnets(engine.network_subnets()), *host_routes()]
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    region = list(SubnetPool.parse(DEFAULT_POOL, 22).free(used))[-1 - 2 * worker]
    return str(next(region.subnets(new_prefix=prefix)))
