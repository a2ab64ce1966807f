"""Idle footprint: the PSS of all our processes (and Redis) after start-up, as `make run` starts them, with the
store samples' catalogue loaded. Measured for the process layout of the Procfile (web + worker with beat, sampler
and events listener as threads, a threads pool) and, in the same run, for the earlier layout (five processes,
a prefork pool of 4) as the baseline. Goal: at most 250 MB with Redis.

Run alone with `python -m bench.footprint`. Each layout runs under supervisord on a data directory and Redis
database of its own; Redis's share is the server's PSS (one Redis serves every layout, so it is counted once).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

from bench._report import row

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(os.environ.get("BENCH_STORE_SAMPLE", "/work/shared/appstore-samples/casaos-official"))
SETTLE = float(os.environ.get("BENCH_FOOTPRINT_SETTLE", "20"))  # seconds idle before measuring
GOAL_MB = 250
OLD_PROCFILE = """web: .venv/bin/python manage.py serve
worker: .venv/bin/celery -A casaos_site worker --loglevel=INFO --pool=prefork --concurrency=4
beat: .venv/bin/celery -A casaos_site beat --loglevel=INFO
monitor: .venv/bin/python manage.py monitor
events: .venv/bin/python manage.py app_events
"""


def main() -> None:
    redis_mb = _redis_pss_mb()
    now = _measure("two processes (this Procfile)", ROOT / "Procfile", {})
    old = _measure("five processes (earlier layout)", None, {"CASAOS_WORKER_BACKGROUND": "0"})
    print(f"\n{'layout':<34}{'ours MB':>9}{'+ Redis MB':>12}")
    for name, figures in (("earlier layout (baseline)", old), ("this layout", now)):
        print(f"{name:<34}{figures['total']:>9.0f}{figures['total'] + redis_mb:>12.0f}")
    ratio = now["total"] / old["total"]
    total = now["total"] + redis_mb
    print(f"idle PSS: {total:.0f} MB with Redis ({ratio:.2f}x the earlier layout); goal <= {GOAL_MB} MB")
    print(json.dumps({"footprint_mb": round(total), "baseline_mb": round(old["total"] + redis_mb)}))
    row(
        "idle PSS of our processes + Redis after start-up, 1,000+ catalogue apps loaded",
        f"{total:.0f} MB",
        f"{old['total'] + redis_mb:.0f} MB (the earlier five-process layout)",
        total / (old["total"] + redis_mb),
        f"<= {GOAL_MB} MB",
        total <= GOAL_MB,
    )


def _measure(label: str, procfile: Path | None, extra: dict[str, str]) -> dict[str, float]:
    data = Path(tempfile.mkdtemp(prefix="casaos-bench-footprint-"))
    if procfile is None:
        procfile = data / "Procfile"
        procfile.write_text(OLD_PROCFILE)
    env = _env(data, extra)
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        _add_samples_store(env, data)
        sup = _start(procfile, env, data)
        try:
            _wait_healthy(env["CASAOS_BIND"])
            time.sleep(SETTLE)
            figures = _pss_tree(sup.pid)
        finally:
            sup.terminate()
            sup.wait(timeout=60)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    print(f"{label}: " + ", ".join(f"{k} {v:.0f}" for k, v in figures.items()) + " (MB PSS)")
    return figures


def _env(data: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, "CASAOS_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": "casaos_site.settings", **extra}
    env.setdefault("CASAOS_BIND", "127.0.0.1:8797")
    env["CASAOS_REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    env.pop("DATABASE_URL", None)
    return env


def _add_samples_store(env: dict[str, str], data: Path) -> None:
    """Copies of the real store sample as folder stores, synced here, so the catalogue holds over 1,000 apps."""
    code = (
        "import django, shutil, sys; django.setup()\n"
        "from pathlib import Path\n"
        "from appstore.models import AppstoreSettings, CatalogApp, Store\n"
        "from appstore.services import store_sync_run\n"
        "AppstoreSettings.objects.update_or_create(pk=1, defaults={'allow_lan_stores': True})\n"
        "Store.objects.filter(is_default=True).delete()  # no network in a footprint figure\n"
        "for copy in range(int(sys.argv[3])):\n"
        "    folder = Path(sys.argv[2]) / f'store-{copy}'\n"
        "    shutil.copytree(sys.argv[1], folder)\n"
        "    store = Store.objects.create(name=f'sample {copy}', kind=Store.Kind.FOLDER, path=str(folder))\n"
        "    store_sync_run(store_id=store.pk)\n"
        "print(CatalogApp.objects.count(), 'apps in the catalogue')\n"
    )
    copies = str(-(-1000 // max(1, len(list((SAMPLES / "Apps").iterdir())))))
    subprocess.run([sys.executable, "-c", code, str(SAMPLES), str(data), copies], cwd=ROOT, env=env, check=True)


def _start(procfile: Path, env: dict[str, str], data: Path) -> subprocess.Popen:
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


def _pss_tree(root_pid: int) -> dict[str, float]:
    """PSS per process name (MB) of the supervisor and everything under it, and their total."""
    figures: dict[str, float] = {}
    for proc in [psutil.Process(root_pid), *psutil.Process(root_pid).children(recursive=True)]:
        name = _name(proc)
        figures[name] = figures.get(name, 0.0) + _pss_mb(proc.pid)
    figures["total"] = sum(figures.values())
    return figures


def _name(proc: psutil.Process) -> str:
    cmd = " ".join(proc.cmdline())
    for key in ("serve", "worker", "beat", "monitor", "app_events", "supervisord"):
        if key in cmd:
            return key
    return proc.name()


def _pss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _redis_pss_mb() -> float:
    pids = [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "redis-server"]
    return sum(_pss_mb(pid) for pid in pids)


if __name__ == "__main__":
    main()
