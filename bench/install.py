"""Install benchmark: `POST /api/apps/` of a one-service app until its web port answers, against what Compose makes
the engine do for the same app (`docker network create` + `docker run --network`), on the same engine, in the same
run (issue 13's goal: at most 1.0x; plain `docker run -d -p`, the earlier baseline, is shown for context). Before
every round the image is removed from the engine, so every side pulls it from the loopback registry. Prints the
medians, their ratios and where our time goes (the pipeline's own step timings).

Run alone with `python -m bench.install` (or through `python -m bench`). The measuring happens in a child
process with its own data directory, database and Redis database, beside a real Celery worker.
"""

from __future__ import annotations

import asyncio
import functools
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from bench._report import REDIS_URL, row

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = "127.0.0.1:5000"
ROUNDS = int(os.environ.get("BENCH_INSTALL_ROUNDS", "7"))
GOAL = 1.0
STEPS = ("post", "queued", "pulling", "creating", "starting", "ready")  # where an install's time goes


def main() -> None:
    """Run the measurement in a clean child process and relay what it prints."""
    data_dir = tempfile.mkdtemp(prefix="casaos-bench-install-")
    env = {
        **os.environ,
        "CASAOS_DATA_DIR": data_dir,
        "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test",
        "CASAOS_REDIS_URL": REDIS_URL,
    }
    env.pop("DATABASE_URL", None)  # our own SQLite file in the data directory
    try:
        subprocess.run([sys.executable, "-m", "bench.install", "--child"], cwd=ROOT, env=env, check=True)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


# ---------------------------------------------------------------------------- the child
def _child() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    image = _push_bench_image()
    worker = _start_worker()
    follower = _state_follower()
    try:
        results: dict = {_ours: [], _docker_run: [], _docker_network_run: []}
        steps: list[dict] = []
        _round(image, 0, results, steps, warmup=True)
        for n in range(ROUNDS):
            _round(image, n, results, steps)
        _report(results[_ours], results[_docker_run], results[_docker_network_run], steps)
    finally:
        follower.close()
        worker.terminate()
        worker.wait(timeout=20)
        _docker("rmi", "-f", image, check=False)
        _registry_delete(image)


def _round(image: str, n: int, results: dict, steps: list[dict], *, warmup: bool = False) -> None:
    """One measurement of each, in rotating order so drift hits all alike."""
    order = list(results)
    order = order[n % 3 :] + order[: n % 3]
    for fn in order:
        _docker("rmi", "-f", image, check=False)
        value = fn(image)
        if warmup:
            continue
        if fn is _ours:
            value, timings = value
            steps.append(timings)
        results[fn].append(value)


def _ours(image: str) -> tuple[float, dict]:
    """API call until the web port named in the 202 answers; the port is probed once the app's state event says
    running (what the websocket relays to API clients; sent after the status is stored). Returns the time and
    the pipeline's own step timings.

    Like the baseline, nothing touches the port before the engine has started the container: a connection
    attempt during the start can stall on the new container's address for a second and would skew both sides.
    """
    from apps.models import Installation
    from apps.services.cleanup import app_objects_remove
    from apps.services.common import engine

    client = _api_client()
    compose = f"services:\n  web:\n    image: {image}\n    ports: ['127.0.0.1:${{WEBUI_PORT}}:8080']\n"
    name = f"bench-{uuid.uuid4().hex[:8]}"
    follower = _state_follower()
    settled = follower.expect(name)
    started = time.perf_counter()
    response = client.post("/api/apps/", {"compose": compose, "name": name}, content_type="application/json")
    posted = time.perf_counter() - started
    assert response.status_code == 202, response.content
    accepted = response.json()
    # Follow the state events as a websocket client would: no polling that lags or competes for the two cores
    # with the engine (the stored status is looked at too, slowly, in case an event got lost).
    deadline = time.monotonic() + 120
    while not settled.wait(0.5):
        status = Installation.objects.filter(pk=accepted["id"]).values_list("status", flat=True)[0]
        assert time.monotonic() < deadline and status not in ("failed", "cancelled"), status
        if status == "running":
            break
    assert follower.status.pop(name, "running") == "running", f"{name} did not install"
    _wait_http(accepted["web_port"])  # the 202 named the web port, which must then answer
    elapsed = time.perf_counter() - started
    state = client.get(f"/api/apps/{accepted['id']}/").json()  # after the clock: the API agrees, with the timings
    assert state["status"] == "running"
    # Clean-up is not timed; force-remove (the graceful uninstall would wait 10 s for busybox to stop).
    app_objects_remove(eng=engine(), name=name)
    Installation.objects.filter(pk=state["id"]).delete()
    return elapsed, {"post": round(posted * 1000), **state["progress"]["timings"]}


class _StateFollower:
    """Listens to the apps group of the channel layer (every app's state events, as the pages and the websocket
    get them) from one thread with its own event loop; `expect(name)` gives an Event set when that app has
    settled (running, failed or cancelled), and `status` says which. close() leaves the group (a channel left
    in it would be sent every later event until the group expires)."""

    SETTLED = ("running", "failed", "cancelled")

    def __init__(self) -> None:
        self._waiting: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self.status: dict[str, str] = {}
        self._loop = asyncio.new_event_loop()
        self._channel = ""
        subscribed = asyncio.run_coroutine_threadsafe(self._subscribe(), self._loop)
        threading.Thread(target=self._loop.run_forever, name="bench-follow", daemon=True).start()
        subscribed.result(timeout=10)
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop)

    def close(self) -> None:
        from apps.services.common import APPS_GROUP

        leave = asyncio.run_coroutine_threadsafe(self._layer.group_discard(APPS_GROUP, self._channel), self._loop)
        leave.result(timeout=10)

    def expect(self, name: str) -> threading.Event:
        event = threading.Event()
        with self._lock:
            self._waiting[name] = event
        return event

    async def _subscribe(self) -> None:
        from channels.layers import get_channel_layer

        from apps.services.common import APPS_GROUP

        self._layer = get_channel_layer()
        self._channel = await self._layer.new_channel()
        await self._layer.group_add(APPS_GROUP, self._channel)

    async def _listen(self) -> None:
        while True:
            data = (await self._layer.receive(self._channel)).get("data") or {}
            if data.get("status") in self.SETTLED:
                with self._lock:
                    event = self._waiting.pop(data.get("name"), None)
                if event is not None:
                    self.status[data["name"]] = data["status"]
                    event.set()


@functools.cache
def _state_follower() -> _StateFollower:
    return _StateFollower()


@functools.cache
def _api_client():
    """One logged-in API client for every round, as a real client keeps its session; a new test Client would
    also build the middleware chain again per request (WhiteNoise scans every static file: ~15 ms), which
    a running server does once."""
    from django.test import Client

    from accounts.models import User

    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": User.Role.ADMIN})
    client = Client()
    client.force_login(admin)
    return client


def _docker_run(image: str) -> float:
    """Context (the earlier baseline): `docker run -d -p` of the same image until the same kind of answer."""
    port = _free_port()
    name = f"bench-run-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    _docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8080", image)
    _wait_http(port)
    elapsed = time.perf_counter() - started
    _docker("rm", "-f", name)
    return elapsed


def _docker_network_run(image: str) -> float:
    """The baseline: what `docker compose up` makes the engine do for this app, its own network and then the
    container on it, until the same kind of answer."""
    port = _free_port()
    name = f"bench-net-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    _docker("network", "create", name)
    _docker(
        "run", "-d", "--name", name, "--network", name, "--network-alias", "web", "-p", f"127.0.0.1:{port}:8080", image
    )
    _wait_http(port)
    elapsed = time.perf_counter() - started
    _docker("rm", "-f", name)
    _docker("network", "rm", name)
    return elapsed


def _report(ours: list[float], plain: list[float], baseline: list[float], steps: list[dict]) -> None:
    ours_median, plain_median, base_median = (
        statistics.median(ours),
        statistics.median(plain),
        statistics.median(baseline),
    )
    ratio = ours_median / base_median
    print("install: one-service app, image pulled from the loopback registry each round")
    print(f"  rounds                       {len(ours)}")
    print(
        f"  network + run     median     {base_median * 1000:8.0f} ms   (all: {_ms(baseline)})  (docker network "
        "create; docker run --network: what compose does)"
    )
    print(
        f"  docker run -d -p  median     {plain_median * 1000:8.0f} ms   (all: {_ms(plain)})  (no network of its own)"
    )
    print(
        f"  POST /api/apps/   median     {ours_median * 1000:8.0f} ms   (all: {_ms(ours)})  (until its web port answers)"
    )
    print(f"  ratio                        {ratio:8.2f} x  (goal <= {GOAL} x: {'met' if ratio <= GOAL else 'NOT met'})")
    print(f"  ratio vs docker run -d -p    {ours_median / plain_median:8.2f} x  (context)")
    # The pipeline's own stopwatch (GET /api/apps/{id}/ progress.timings): engine calls dominate every step.
    print(
        "  our steps, median ms         "
        + "  ".join(f"{step} {statistics.median(t.get(step, 0) for t in steps):.0f}" for step in STEPS)
    )
    row(
        "install of a one-service app (POST /api/apps/ until its port answers) vs network create + run --network",
        f"{ours_median * 1000:.0f} ms",
        f"{base_median * 1000:.0f} ms",
        ratio,
        f"<= {GOAL}x",
        ratio <= GOAL,
    )


def _ms(values: list[float]) -> str:
    return ", ".join(f"{v * 1000:.0f}" for v in values)


# ---------------------------------------------------------------------------- helpers
def _start_worker() -> subprocess.Popen:
    """A real worker as the Procfile runs it (its pool from the settings), ready before we measure."""
    log_path = Path(os.environ["CASAOS_DATA_DIR"]) / "worker.log"
    log = log_path.open("wb")  # stays open as long as the worker runs
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "casaos_site",
            "worker",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"bench-{uuid.uuid4().hex[:6]}@%h",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while b"ready." not in log_path.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the Celery worker did not start; see {log_path}")
        time.sleep(0.2)
    return proc


def _push_bench_image() -> str:
    """A busybox httpd image that exists in the registry only (new tag each run)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(os.path.realpath("/bin/busybox"), arcname="bin/busybox")
        for applet in ("sh", "httpd"):
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
        page = f"bench {uuid.uuid4().hex}\n".encode()  # unique content: a layer no engine has yet
        info = tarfile.TarInfo("www/index.html")
        info.size = len(page)
        tar.addfile(info, io.BytesIO(page))
    image = f"{REGISTRY}/casa-bench/httpd:{uuid.uuid4().hex[:10]}"
    subprocess.run(
        ["docker", "import", "--change", 'CMD ["/bin/httpd","-f","-p","8080","-h","/www"]', "-", image],
        input=buf.getvalue(),
        check=True,
        capture_output=True,
    )
    _docker("push", "-q", image)
    return image


def _registry_delete(image: str) -> None:
    name, _, tag = image.removeprefix(f"{REGISTRY}/").rpartition(":")
    try:
        head = urllib.request.Request(
            f"http://{REGISTRY}/v2/{name}/manifests/{tag}",
            method="HEAD",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        )
        with urllib.request.urlopen(head, timeout=5) as resp:
            digest = resp.headers["Docker-Content-Digest"]
        req = urllib.request.Request(f"http://{REGISTRY}/v2/{name}/manifests/{digest}", method="DELETE")
        urllib.request.urlopen(req, timeout=5).close()
    except OSError:
        pass


def _docker(*args: str, check: bool = True) -> None:
    subprocess.run(["docker", *args], check=check, capture_output=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(port: int, timeout: float = 120) -> None:
    """Poll every 20 ms until the port gives an HTTP answer (the same probe for both sides)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                resp.read()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


if __name__ == "__main__":
    if "--child" in sys.argv:
        sys.path.insert(0, str(ROOT))
        _child()
    else:
        main()
