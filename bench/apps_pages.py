"""Pages with many apps: 150 one-service apps installed (real containers on the engine, each on its own network,
installed by a real worker), then the apps page (`/apps/`), the home page (`/`) and `/api/apps/` through
`manage.py serve`, with the worker running as `make run` runs it (its sampler feeds the home page). Goal (issue 13):
each page's p50 at most 150 ms. The baseline is the same page in the same run before any app was installed.

Also prints each page's database queries (counted in-process) so a page that grows with the apps shows where.
Run alone with `python -m bench.apps_pages`. BENCH_PAGES_APPS changes the number of apps, BENCH_PAGES_ROUNDS the
requests per page. The measuring happens in a child process with its own data directory, database and Redis db.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench._report import REDIS_URL, row
from bench.install import _start_worker

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "127.0.0.1:5000/casa/httpd:1"
APPS = int(os.environ.get("BENCH_PAGES_APPS", "150"))
ROUNDS = int(os.environ.get("BENCH_PAGES_ROUNDS", "30"))
PAGES = {"apps page": "/apps/", "home page": "/", "/api/apps/": "/api/apps/"}
GOAL_MS = 150
PARALLEL = 4  # removals at once


def main() -> None:
    """Measure in a child process with its own data directory, database and Redis database."""
    data_dir = tempfile.mkdtemp(prefix="casaos-bench-pages-")
    env = {
        **os.environ,
        "CASAOS_DATA_DIR": data_dir,
        "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test",
        "CASAOS_REDIS_URL": REDIS_URL,
    }
    env.pop("DATABASE_URL", None)
    try:
        subprocess.run([sys.executable, "-m", "bench.apps_pages", "--child"], cwd=ROOT, env=env, check=True)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _child() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    subprocess.run(["docker", "pull", "-q", IMAGE], check=True, capture_output=True)
    admin = _admin()
    worker = _start_worker()
    server = _Server(_cookie(admin))
    names: list[str] = []
    try:
        time.sleep(3)  # the worker's sampler has stored its first figures (the home page reads them)
        before = {page: server.p50(path) for page, path in PAGES.items()}
        started = time.monotonic()
        names = _install_many(admin, APPS)
        print(f"apps pages: {len(names)} one-service apps installed in {time.monotonic() - started:.0f} s")
        after = {page: server.p50(path) for page, path in PAGES.items()}
        queries = {page: _queries(admin, path) for page, path in PAGES.items()}
        _report(before, after, queries, len(names))
    finally:
        server.stop()
        worker.terminate()
        worker.wait(timeout=30)
        _remove(names)


def _admin():
    from accounts.models import User

    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": User.Role.ADMIN})
    return admin


def _cookie(admin) -> str:
    from django.test import Client

    client = Client()
    client.force_login(admin)
    return client.cookies["sessionid"].value


def _install_many(admin, count: int) -> list[str]:
    """`count` apps through the install service, queued as POST /api/apps/ queues them; the worker installs them."""
    from apps.models import Installation
    from apps.services import app_install

    compose = f"services:\n  web:\n    image: {IMAGE}\n    ports: ['127.0.0.1:${{WEBUI_PORT}}:8080']\n"
    run = uuid.uuid4().hex[:6]
    names = [f"bench-{run}-{i:03d}" for i in range(count)]
    for name in names:
        app_install(user=admin, compose=compose, name=name)
    apps = Installation.objects.filter(name__in=names)
    deadline = time.monotonic() + 60 + 10 * count
    while apps.filter(status__in=Installation.IN_PROGRESS).exists():
        assert time.monotonic() < deadline, "the installs did not finish"
        time.sleep(1)
    failed = list(apps.exclude(status=Installation.Status.RUNNING).values_list("name", "error")[:3])
    assert not failed, f"installs failed: {failed}"
    return names


def _remove(names: list[str]) -> None:
    from apps.models import Installation
    from apps.services.cleanup import app_objects_remove
    from apps.services.common import engine

    eng = engine()
    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(lambda name: app_objects_remove(eng=eng, name=name), names))
    Installation.objects.filter(name__in=names).delete()


class _Server:
    """`manage.py serve` on a free port, and one keep-alive connection to it as a browser keeps."""

    def __init__(self, cookie: str):
        self.port = _free_port()
        log = Path(os.environ["CASAOS_DATA_DIR"]) / "serve.log"
        env = {**os.environ, "CASAOS_BIND": f"127.0.0.1:{self.port}"}
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve"],
            cwd=ROOT,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.headers = {"Cookie": f"sessionid={cookie}", "Accept": "text/html,application/json"}
        self._wait(log)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def _wait(self, log: Path) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the server did not start; see {log}")

    def get(self, path: str) -> float:
        started = time.perf_counter()
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        assert response.status == 200, (path, response.status)
        return elapsed

    def p50(self, path: str) -> float:
        """Median of ROUNDS requests, after three untimed ones (templates, caches and connections warm)."""
        for _ in range(3):
            self.get(path)
        return statistics.median(self.get(path) for _ in range(ROUNDS))

    def stop(self) -> None:
        self.conn.close()
        self.proc.terminate()
        self.proc.wait(timeout=20)


def _queries(admin, path: str) -> int:
    """Database queries the page makes (in this process, through the test client: the same views)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(admin)
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


def _report(before: dict, after: dict, queries: dict, count: int) -> None:
    print(f"apps pages: p50 of {ROUNDS} requests each through manage.py serve, before and with {count} apps")
    for page in PAGES:
        b, a = before[page] * 1000, after[page] * 1000
        print(f"  {page:<12} no apps {b:7.1f} ms   {count} apps {a:7.1f} ms   ({queries[page]} queries)")
        row(
            f"{page} p50 with {count} one-service apps installed (vs none)",
            f"{a:.1f} ms",
            f"{b:.1f} ms",
            a / b,
            f"p50 <= {GOAL_MS} ms",
            a <= GOAL_MS,
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child()
    else:
        main()
