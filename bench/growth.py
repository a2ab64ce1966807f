"""One-hour growth: the PSS of our processes (and Redis) with the dashboard open in one client at 1 Hz, sampled
every minute for BENCH_GROWTH_MINUTES (default 60), on a stack with the 1,000-app catalogue loaded as in
bench/footprint.py. Goal: at most 260 MB with Redis at the end, and no growth (at most 10 MB above the start).

Run alone with `python -m bench.growth`; it is light (one socket) and need not hold the test lock. Redis database
BENCH_GROWTH_REDIS_URL (default 14), apart from the other benchmarks', since it runs beside them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from bench import _report, _stack

MINUTES = int(os.environ.get("BENCH_GROWTH_MINUTES", "60"))
REDIS_URL = os.environ.get("BENCH_GROWTH_REDIS_URL", "redis://127.0.0.1:6379/14")
SETTLE = 30.0  # seconds from start-up and the socket's opening to the first sample
GOAL_MB, GROWTH_MB = 260, 10


def main() -> None:
    with _stack.running(REDIS_URL, catalogue=True) as stack:
        series = _watch(stack)
    start, end = series[0][1], series[-1][1]
    slope = _slope(series)
    print(f"PSS with Redis: start {start:.0f} MB, end {end:.0f} MB, slope {slope:+.1f} MB/hour over {MINUTES} min")
    met = end <= GOAL_MB and end - start <= GROWTH_MB
    _report.row(
        f"idle PSS after {MINUTES} min, dashboard open (1 client at 1 Hz), Redis included",
        f"{end:.0f} MB (start {start:.0f} MB, {slope:+.1f} MB/h)",
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
        ours, redis = stack.pss_mb(), _stack.redis_pss_mb()
        series.append((minute, ours + redis))
        # Redis is shared with other runs on this machine: its share is printed apart, to tell whose growth it is.
        print(f"minute {minute:3d}: {ours + redis:.1f} MB (ours {ours:.1f}, Redis {redis:.1f})", flush=True)
    outcome = json.loads(client.communicate()[0])
    print(
        f"client: {outcome['frames']} frames, refused {outcome['refused']}, "
        f"dropped {outcome['dropped']} (at {outcome['dropped_at']} s)"
    )
    return series


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
