"""One-hour growth: the PSS of our processes (and Redis) with the dashboard open in one client at 1 Hz, sampled
every minute for BENCH_GROWTH_MINUTES (default 60), on a stack with the 1,000-app catalogue loaded as in
bench/footprint.py. Goal: at most 260 MB with Redis at the end, and no growth (at most 10 MB above the start).

Beat's store sync (every CASAOS_APPSTORE_SYNC_MINUTES, default 60) runs in a short-lived child of the worker
(`manage.py appstore_sync`); its PSS is printed apart. When one is running at the last sample (the hourly sync fires
at about minute 60), the figure is taken again once it has ended: "one hour later" is the idle stack. The series
and the goal are the long-lived processes (web, worker, supervisor) and Redis; the peak with a sync child counted
in is reported beside them.

Run alone with `python -m bench.growth`; it is light (one socket) and need not hold the test lock. Redis database
BENCH_GROWTH_REDIS_URL (default 5), apart from the other benchmarks' (4) and the test suite's (6-15).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time

import psutil

from bench import _report, _stack

MINUTES = int(os.environ.get("BENCH_GROWTH_MINUTES", "60"))
REDIS_URL = os.environ.get("BENCH_GROWTH_REDIS_URL", "redis://127.0.0.1:6379/5")
SETTLE = 30.0  # seconds from start-up and the socket's opening to the first sample
SYNC_WAIT = 900.0  # seconds to wait for a store sync running at the last sample
GOAL_MB, GROWTH_MB = 260, 10
PEAK = [0.0]  # MB: the highest sample with any sync child counted in


def main() -> None:
    with _stack.running(REDIS_URL, catalogue=True) as stack:
        series = _watch(stack)
    start, end = series[0][1], series[-1][1]
    slope = _slope(series[: MINUTES + 1])
    print(f"PSS with Redis: start {start:.0f} MB, end {end:.0f} MB, slope {slope:+.1f} MB/hour over {MINUTES} min")
    met = end <= GOAL_MB and end - start <= GROWTH_MB
    _report.row(
        f"idle PSS after {MINUTES} min, dashboard open (1 client at 1 Hz), Redis included",
        f"{end:.0f} MB (start {start:.0f} MB, {slope:+.1f} MB/h; {PEAK[0]:.0f} MB at most with a store sync's child)",
        goal=f"<= {GOAL_MB} MB, growth <= {GROWTH_MB} MB",
        met=met,
    )


def _watch(stack: _stack.Stack) -> list[tuple[float, float]]:
    """(minutes, MB) every minute while one client holds the dashboard open."""
    seconds = MINUTES * 60 + SETTLE + 5
    client = subprocess.Popen(
        [sys.executable, "-m", "bench._wsclient", stack.bind, stack.session_cookie(), "1", str(seconds), "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(SETTLE)
    series, began = [], time.monotonic()
    for minute in range(MINUTES + 1):
        time.sleep(max(0.0, began + minute * 60 - time.monotonic()))
        series.append((minute, _sample(stack, f"minute {minute:3d}")))
    if _sync_children(stack):
        series.append((MINUTES, _after_sync(stack)))
    outcome = json.loads(client.communicate()[0])
    print(
        f"client: {outcome['frames']} frames, refused {outcome['refused']}, "
        f"dropped {outcome['dropped']} (at {outcome['dropped_at']} s)"
    )
    return series


def _sample(stack: _stack.Stack, label: str) -> float:
    """PSS of our long-lived processes and Redis (MB), printed with each share and a running sync child's."""
    ours, redis = stack.pss_mb(), _stack.redis_pss_mb()
    child = sum(_stack.pss_mb(proc.pid) for proc in _sync_children(stack))
    PEAK[0] = max(PEAK[0], ours + redis)
    # Redis is shared with other runs on this machine: its share is printed apart, to tell whose growth it is.
    print(
        f"{label}: {ours - child + redis:.1f} MB (web + worker {ours - child:.1f}, Redis {redis:.1f};"
        f" a store sync's child beside them {child:.1f})",
        flush=True,
    )
    return ours - child + redis


def _sync_children(stack: _stack.Stack) -> list:
    """The worker's short-lived store-sync processes running now."""
    found = []
    for proc in stack.processes():
        with contextlib.suppress(psutil.Error):
            if "appstore_sync" in proc.cmdline():
                found.append(proc)
    return found


def _after_sync(stack: _stack.Stack) -> float:
    """Sample every 5 s until the running store sync has ended, then once more: the figure after it."""
    deadline = time.monotonic() + SYNC_WAIT
    while _sync_children(stack) and time.monotonic() < deadline:
        _sample(stack, "  store sync running")
        time.sleep(5)
    time.sleep(5)
    return _sample(stack, f"minute {MINUTES:3d}, the store sync ended")


def _slope(series: list[tuple[float, float]]) -> float:
    """Least-squares slope in MB per hour."""
    n = len(series)
    if n < 2:
        return 0.0
    mx = sum(m for m, _ in series) / n
    my = sum(v for _, v in series) / n
    den = sum((m - mx) ** 2 for m, _ in series)
    return 60 * sum((m - mx) * (v - my) for m, v in series) / den


if __name__ == "__main__":
    main()
