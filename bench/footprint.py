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
import tempfile
import time
from pathlib import Path

import psutil

from bench import _stack
from bench._report import REDIS_URL, row

SETTLE = float(os.environ.get("BENCH_FOOTPRINT_SETTLE", "20"))  # seconds idle before measuring
GOAL_MB = 250
OLD_PROCFILE = """web: .venv/bin/python manage.py serve
worker: .venv/bin/celery -A casaos_site worker --loglevel=INFO --pool=prefork --concurrency=4
beat: .venv/bin/celery -A casaos_site beat --loglevel=INFO
monitor: .venv/bin/python manage.py monitor
events: .venv/bin/python manage.py app_events
"""


def main() -> None:
    redis_mb = _stack.redis_pss_mb()
    now = _measure("two processes (this Procfile)", _stack.ROOT / "Procfile", {})
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
    with tempfile.TemporaryDirectory(prefix="casaos-bench-footprint-") as spare:
        if procfile is None:
            procfile = Path(spare) / "Procfile"
            procfile.write_text(OLD_PROCFILE)
        with _stack.running(REDIS_URL, extra=extra, catalogue=True, procfile=procfile) as stack:
            time.sleep(SETTLE)
            figures = _pss_tree(stack.pid)
    print(f"{label}: " + ", ".join(f"{k} {v:.0f}" for k, v in figures.items()) + " (MB PSS)")
    return figures


def _pss_tree(root_pid: int) -> dict[str, float]:
    """PSS per process name (MB) of the supervisor and everything under it, and their total."""
    figures: dict[str, float] = {}
    for proc in [psutil.Process(root_pid), *psutil.Process(root_pid).children(recursive=True)]:
        name = _name(proc)
        figures[name] = figures.get(name, 0.0) + _stack.pss_mb(proc.pid)
    figures["total"] = sum(figures.values())
    return figures


def _name(proc: psutil.Process) -> str:
    cmd = " ".join(proc.cmdline())
    for key in ("serve", "worker", "beat", "monitor", "app_events", "supervisord"):
        if key in cmd:
            return key
    return proc.name()


if __name__ == "__main__":
    main()
