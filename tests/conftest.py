"""Fixtures for the real components: Redis, the container engine, the loopback registry, a live ASGI stack
(daphne + Celery worker + sampler in subprocesses) and headless Chromium."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis as redis_lib
from django.conf import settings

from tests.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
REGISTRY = "127.0.0.1:5000"
CHROMIUM = "/usr/bin/chromium"
# Headless in a container, no traffic of its own (updates, sync, QUIC) beside what a test makes it do.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# `make test` sets this: there, a missing service is a failure, never a silent skip.
REQUIRE_SERVICES = os.environ.get("CASAOS_REQUIRE_SERVICES") == "1"


def missing(reason: str):
    """Fail under `make test`, skip with the reason elsewhere."""
    if REQUIRE_SERVICES:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------- isolation
@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """A new channel layer per test: channels-redis binds its locks to the event loop that first used them, and
    every async_to_sync call or WebsocketCommunicator runs in a new loop."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def project_celery_app():
    """Shared tasks publish through Celery's *current* app: a test that makes another one current (a bare
    `Celery()` does) would send every later task of this process to a broker no worker listens on."""
    from celery import current_app

    yield
    assert current_app.main == "casaos", f"this test left Celery app {current_app.main!r} current"


@pytest.fixture(autouse=True)
def language_reset():
    """A request in the test client activates its user's language in this thread (the middleware, a token's
    authentication) and nothing ends it: the next test would run in German. Each test starts in the default."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def no_setup_token_left_behind():
    """A test whose code announced a setup token (preflight, a first start) removes it: while it exists and no
    admin does, every later page of this process would redirect to /setup/."""
    from django.conf import settings as django_settings

    token = django_settings.DATA_DIR / "setup-token"
    was_there = token.exists()
    yield
    if not was_there:
        token.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- users
@pytest.fixture
def admin_user(db):
    return UserFactory(admin=True, username="admin")


@pytest.fixture
def member_user(db):
    return UserFactory(username="member")


@pytest.fixture
def installer_user(db):
    """A member an admin allowed to install apps."""
    return UserFactory(username="installer", installer=True)


@pytest.fixture
def password():
    return PASSWORD


# ---------------------------------------------------------------------------- services
@pytest.fixture(scope="session")
def redis_client():
    client = redis_lib.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis_lib.RedisError as exc:
        missing(f"Redis does not answer at {settings.REDIS_URL} ({exc}); run scripts/services.sh")
    return client


@pytest.fixture(scope="session")
def engine():
    """The real container engine named by CASAOS_ENGINE_URL (Docker by default)."""
    import runtime
    from runtime.errors import EngineError

    try:
        eng = runtime.get_engine(settings.ENGINE_URL)
        eng.version()
    except EngineError as exc:
        missing(f"no container engine answers at {settings.ENGINE_URL} ({exc}); run scripts/services.sh")
    return eng


@pytest.fixture(scope="session")
def registry():
    """The loopback registry holding the test images built by scripts/test-images.sh."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{REGISTRY}/v2/casa/httpd/tags/list", timeout=3) as resp:
            tags = resp.read().decode()
    except OSError as exc:
        missing(f"the loopback registry does not answer at {REGISTRY} ({exc}); run scripts/test-services.sh")
    if '"1"' not in tags:
        missing("the test images are not in the registry; run scripts/test-images.sh")
    return REGISTRY


@dataclass(frozen=True)
class SwarmCluster:
    """The test swarm of scripts/swarm-test.sh: node1 the manager, node2 a worker, each its own dockerd; node3 a
    spare dockerd on the same LAN in no swarm (tests/swarm_spare.py joins it, stops it and puts it back)."""

    manager_url: str
    worker_url: str
    node1_id: str
    node2_id: str
    node1_addr: str = "10.251.0.11"
    node2_addr: str = "10.251.0.12"
    spare_url: str = "unix:///run/casaos-swarm/node3.sock"
    node3_addr: str = "10.251.0.13"


@pytest.fixture(scope="session")
def swarm_cluster() -> SwarmCluster:
    """The real two-machine swarm (docs/multi-node.md); a test changing cluster-wide state restores it."""
    import docker

    urls = ("unix:///run/casaos-swarm/node1.sock", "unix:///run/casaos-swarm/node2.sock")
    try:
        ids = [docker.APIClient(base_url=url, version="auto", timeout=10).info()["Swarm"]["NodeID"] for url in urls]
    except Exception as exc:  # docker-py raises several kinds for a socket that is not there
        missing(f"the test swarm does not answer ({exc}); run scripts/swarm-test.sh up")
    if not all(ids):
        missing("the test swarm's nodes are not in a swarm; run scripts/swarm-test.sh up")
    return SwarmCluster(manager_url=urls[0], worker_url=urls[1], node1_id=ids[0], node2_id=ids[1])


# ---------------------------------------------------------------------------- live stack
class LiveStack:
    """daphne and a Celery worker (sampler and events listener in it), in subprocesses sharing the test database
    and Redis. No beat: tests run what beat would when they want it."""

    def __init__(self, env: dict[str, str]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "CASAOS_WORKER_BEAT": "0"}
        self.procs: list[subprocess.Popen] = []
        ARTIFACTS.mkdir(exist_ok=True)

    def log_path(self, name: str) -> Path:
        """Each xdist worker's processes log apart: a failure message points at the right file."""
        return ARTIFACTS / f"{name}-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log"

    def spawn(self, name: str, *args: str) -> subprocess.Popen:
        log = self.log_path(name).open("ab")
        proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append(proc)
        return proc

    def start(self) -> None:
        py = sys.executable
        # The web server as `make run` starts it (daphne tuned by manage.py serve), on a port of our own.
        self.env = {**self.env, "CASAOS_BIND": f"127.0.0.1:{self.port}"}
        token = settings.DATA_DIR / "setup-token"
        token_was_there = token.exists()
        self.spawn("daphne", py, "manage.py", "serve")
        self.start_worker()  # with the sampler and the engine-events listener as its threads, as the Procfile runs it
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"daphne did not start; see {self.log_path('daphne')}")
        if not token_was_there:
            # serve prints a first-run setup token while no admin exists; tests that want one make their own,
            # and a token left lying about would send every other test's pages to the setup page.
            token.unlink(missing_ok=True)

    def start_worker(self) -> None:
        name = f"test-{self.port}@{socket.gethostname()}"
        self.worker = self.spawn(
            "worker",
            sys.executable,
            "-m",
            "celery",
            "-A",
            "casaos_site",
            "worker",
            "--loglevel=INFO",
            "--concurrency=4",
            "--without-gossip",
            "--without-mingle",
            "-n",
            name,
        )
        self._wait_for_worker(name)

    def _wait_for_worker(self, name: str) -> None:
        """Until the worker answers a ping (/healthz asks the same way: a worker still starting is no worker)."""
        from celery import Celery

        deadline = time.monotonic() + 120  # a loaded machine (three suites' engines at work) starts it slowly
        # Through the stack's own broker (a throw-away stack has a Redis database of its own); the project's app
        # publishes control messages through its own producer pool whatever connection it is given.
        broker = Celery(broker=self.env.get("CASAOS_REDIS_URL", settings.REDIS_URL), set_as_current=False)
        try:
            while not broker.control.ping(destination=[name], timeout=0.5):
                if self.worker.poll() is not None or time.monotonic() > deadline:
                    self._worker_failed()
        finally:
            broker.close()

    def _kill_worker(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.worker.pid, signal.SIGKILL)  # its own session: whatever it started goes with it
        self.worker.wait()
        self.procs.remove(self.worker)

    def _worker_failed(self) -> None:
        """Kill what did not start (left running, it would take later tests' tasks) and say why."""
        self._kill_worker()
        tail = self.log_path("worker").read_text(errors="replace").splitlines()[-30:]
        raise RuntimeError("the worker did not start; the end of its log:\n" + "\n".join(tail))

    def restart_worker(self) -> None:
        """A worker with nothing queued or running: in-process tests before this one queue tasks into the same
        broker that nobody ran, and those would otherwise run here against rows that are long gone."""
        from casaos_site.celery import app

        self._kill_worker()
        app.control.purge()
        self.start_worker()

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # its own session: pool children go with it
                proc.wait()


def _database_url() -> str:
    from django.db import connection

    cfg = connection.settings_dict
    if cfg["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{cfg['NAME']}"
    return (
        f"postgres://{cfg['USER']}:{cfg['PASSWORD']}@{cfg['HOST'] or 'localhost'}:{cfg['PORT'] or 5432}/{cfg['NAME']}"
    )


@pytest.fixture(scope="session")
def live_stack(django_db_setup, django_db_blocker, redis_client):
    """A running web server with its worker; tests using it need `transactional_db` so rows are visible to it."""
    with django_db_blocker.unblock():
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test", "DATABASE_URL": _database_url()}
    # No hotplug listener: it would store its own inventory (loop devices left out) in the database a storage
    # test's stack shares later in the session, and take that test's loop disks away on every uevent.
    stack = LiveStack({**env, "CASAOS_WORKER_HOTPLUG": "0"})
    stack.start()
    _LIVE.append(stack)
    yield stack
    _LIVE.remove(stack)
    stack.stop()


_LIVE: list[LiveStack] = []  # this process's running live stack, if any


@pytest.fixture(autouse=True)
def _no_stack_behind_in_process_tests(request):
    """A test of a file that never uses the stack must not run while the stack's worker listens on its broker (the
    worker would take the tasks it queues): the file order of pytest_collection_modifyitems was not kept."""
    if _LIVE and request.node.path not in request.config.stash.get(STACK_FILES, set()):
        pytest.fail("the live stack is running before this in-process test: run xdist with --no-loadscope-reorder")


# ---------------------------------------------------------------------------- browser
@pytest.fixture(scope="module")
def browser():
    # Module scope: Playwright's sync API keeps an asyncio loop running in this thread while it is open, and
    # async_to_sync (channels, events.publish) refuses to run beside it; closing it after each module clears that.
    if not Path(CHROMIUM).exists():
        missing(f"{CHROMIUM} is missing; run scripts/test-services.sh (installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    if getattr(request.node, "rep_call", None) and request.node.rep_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failure.png"), full_page=True)
    context.close()


STACK_FILES = pytest.StashKey[set]()
# Seconds the longest files took in `make test` on the 2-core machine (TEST_WORKERS=3, from --durations; see "Test
# suite time" in docs/development.md). Within its group a long file is handed out first: xdist gives whole files
# in this order, so the last ones a worker takes are short and no long file runs alone at the end.
LONG_FILES = {
    "attacks/test_schemathesis_full.py": 300,
    "attacks/test_no_server_errors.py": 160,
    "accounts/test_permission_table.py": 200,
    "apps/test_fixed_names.py": 160,
    "apps/test_pipeline.py": 110,
    "runtime/test_engine.py": 100,
    "apps/test_limits.py": 95,
    "appstore/test_sync.py": 85,
    "apps/test_change.py": 80,
    "apps/test_idle_sockets.py": 75,
    "apps/test_control.py": 75,
    "core/test_postgres.py": 70,
    "attacks/test_schemathesis_read.py": 50,
    "attacks/test_container_policy.py": 115,
    "attacks/test_limits.py": 105,
    "attacks/test_files_race.py": 65,
    "e2e/test_home.py": 130,
    "e2e/test_home_look.py": 145,
    "e2e/test_walk_light.py": 165,
    "e2e/test_walk_dark.py": 160,
    "e2e/test_languages.py": 165,
    "e2e/test_appstore_address.py": 110,
    "e2e/test_files_ui.py": 105,
    "e2e/test_files.py": 100,
    "e2e/test_layout.py": 90,
    "e2e/test_token_copy.py": 85,
    "e2e/test_appstore.py": 80,
    "e2e/test_pages.py": 80,
    "e2e/test_install.py": 80,
    "e2e/test_consent.py": 80,
    "e2e/test_confirmations.py": 75,
}


def _seconds(item) -> int:
    return LONG_FILES.get(item.path.relative_to(ROOT / "tests").as_posix(), 0)


def pytest_collection_modifyitems(config, items):
    """Files that start the live stack run after all others, and browser tests last of all; longest first in each.

    Once started, the live stack's worker takes every task queued on its broker, also those that an in-process test
    queues and runs itself: it must not be running yet while those tests run (under xdist each worker takes whole
    files in this order). Browser tests last: the rest never shares its thread with Playwright's event loop.
    """
    stack_files = {item.path for item in items if "live_stack" in item.fixturenames}
    browser_files = {item.path for item in items if item.get_closest_marker("browser") is not None}
    config.stash[STACK_FILES] = stack_files | browser_files  # those that may run once a stack is up

    def order(item) -> tuple[bool, bool, int]:
        browser = item.get_closest_marker("browser") is not None
        return (browser or item.path in stack_files, browser, -_seconds(item))

    items.sort(key=order)  # stable: a file's tests stay together and in their order


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def browser_login(page, stack: LiveStack, username: str, password: str = PASSWORD) -> None:
    """Log in through the real login form."""
    page.goto(f"{stack.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
