"""A real web + worker stack for benchmarks that measure it from outside: started from the Procfile under
supervisord (as `make run` does) on a data directory of its own, with a logged-in session to open its sockets.

Used by bench/clients.py, bench/growth.py, bench/queue.py, bench/lowmem.py and bench/footprint.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(os.environ.get("BENCH_STORE_SAMPLE", "/work/shared/appstore-samples/casaos-official"))
USERNAME = "bench-admin"


@dataclass
class Stack:
    """A running stack: where it listens, its supervisor's pid, its environment and data directory."""

    bind: str
    pid: int
    env: dict[str, str]
    data: Path

    def processes(self) -> list[psutil.Process]:
        """The supervisor and every process under it (web, worker and their children)."""
        root = psutil.Process(self.pid)
        return [root, *root.children(recursive=True)]

    def pss_mb(self) -> float:
        return sum(pss_mb(proc.pid) for proc in self.processes())

    def cpu_seconds(self) -> float:
        """User + system CPU seconds used so far by our processes (children that exited are not counted)."""
        total = 0.0
        for proc in self.processes():
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def django(self, code: str, *args: str) -> str:
        """Run Django code in a process of its own against this stack's database; its stdout."""
        full = "import django; django.setup()\n" + code
        out = subprocess.run(
            [sys.executable, "-c", full, *args], cwd=ROOT, env=self.env, check=True, capture_output=True, text=True
        )
        return out.stdout.strip()

    def session_cookie(self) -> str:
        """`sessionid=...` of a logged-in administrator (created on first use)."""
        code = (
            "from django.contrib.auth import get_user_model\n"
            "from django.test import Client\n"
            "user = get_user_model().objects.filter(username=sys.argv[1]).first()\n"
            "user = user or get_user_model().objects.create_superuser(sys.argv[1], password='bench-Pass-123!')\n"
            "client = Client()\n"
            "client.force_login(user)\n"
            "from django.conf import settings\n"
            "print(settings.SESSION_COOKIE_NAME + '=' + client.cookies[settings.SESSION_COOKIE_NAME].value)\n"
        )
        return self.django("import sys\n" + code, USERNAME)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(
    redis_url: str,
    *,
    extra: dict[str, str] | None = None,
    catalogue: bool = False,
    preexec=None,
    procfile: Path = ROOT / "Procfile",
) -> Iterator[Stack]:
    """Start the Procfile's processes on a fresh data directory; stop them and remove the directory after.
    `preexec` runs in the supervisor's process before it starts (joining a cgroup: its children inherit it)."""
    data = Path(tempfile.mkdtemp(prefix="casaos-bench-stack-"))
    env = {
        **os.environ,
        "CASAOS_DATA_DIR": str(data),
        "DJANGO_SETTINGS_MODULE": "casaos_site.settings",
        "CASAOS_BIND": f"127.0.0.1:{free_port()}",
        "CASAOS_REDIS_URL": redis_url,
        **(extra or {}),
    }
    env.pop("DATABASE_URL", None)
    # A benchmark stopped with kill (an hour-long one, often) still stops its stack and removes its data.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        if catalogue:
            _add_samples_store(env, data)
        sup = _start(env, data, procfile, preexec)
        try:
            _wait_healthy(env["CASAOS_BIND"])
            yield Stack(env["CASAOS_BIND"], sup.pid, env, data)
        finally:
            sup.terminate()
            sup.wait(timeout=60)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def _add_samples_store(env: dict[str, str], data: Path) -> None:
    """Copies of the real store sample as folder stores, synced here, so the catalogue holds over 1,000 apps."""
    code = (
        "import django, shutil, sys; django.setup()\n"
        "from pathlib import Path\n"
        "from appstore.models import AppstoreSettings, CatalogApp, Store\n"
        "from appstore.services import store_sync_run\n"
        "AppstoreSettings.objects.update_or_create(pk=1, defaults={'allow_lan_stores': True})\n"
        "Store.objects.filter(is_default=True).delete()  # no network in a benchmark\n"
        "for copy in range(int(sys.argv[3])):\n"
        "    folder = Path(sys.argv[2]) / f'store-{copy}'\n"
        "    shutil.copytree(sys.argv[1], folder)\n"
        "    store = Store.objects.create(name=f'sample {copy}', kind=Store.Kind.FOLDER, path=str(folder))\n"
        "    store_sync_run(store_id=store.pk)\n"
        "print(CatalogApp.objects.count(), 'apps in the catalogue')\n"
    )
    copies = str(-(-1000 // max(1, len(list((SAMPLES / "Apps").iterdir())))))
    subprocess.run([sys.executable, "-c", code, str(SAMPLES), str(data), copies], cwd=ROOT, env=env, check=True)


def _start(env: dict[str, str], data: Path, procfile: Path, preexec=None) -> subprocess.Popen:
    conf = subprocess.run(
        [sys.executable, "scripts/procfile.py", "--procfile", str(procfile), "supervisord"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    log = (data / "console.log").open("wb")
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "supervisord"), "-c", conf],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=preexec,
    )


def _wait_healthy(bind: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{bind}/healthz", timeout=10) as resp:
                if json.load(resp)["status"] == "ok":
                    return
        except (OSError, ValueError):
            pass
        time.sleep(1)
    raise SystemExit(f"the stack on {bind} did not become healthy in {seconds:.0f}s")


def pss_mb(pid: int) -> float:
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in lines if line.startswith("Pss:")), 0.0)


def redis_pss_mb() -> float:
    pids = [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "redis-server"]
    return sum(pss_mb(pid) for pid in pids)
