"""Many dashboard clients: 200 and 1,000 real websocket clients on /ws/system/ at 1 Hz against a real web + worker
stack. Figures: the CPU of our processes (% of one core, the client's own process not counted) and the p99 delay
from a sample's time to a client's receipt of its frame. Goal for 200 clients: at most 15 % of one core and a p99
of at most 250 ms; every client connects (the issue's burst got 500s on half its handshakes).

Run alone with `python -m bench.clients`. BENCH_CLIENTS (default "200,1000"), BENCH_CLIENTS_SECONDS (default 30).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from bench import _report, _stack

COUNTS = [int(n) for n in os.environ.get("BENCH_CLIENTS", "200,1000").split(",")]
SECONDS = float(os.environ.get("BENCH_CLIENTS_SECONDS", "30"))
WARMUP = 10.0  # seconds for the burst of connects to settle before measuring
GOAL_CPU, GOAL_P99 = 15.0, 250.0


def main() -> None:
    with _stack.running(_report.REDIS_URL) as stack:
        cookie = stack.session_cookie()
        idle = _cpu_percent(stack, SECONDS)
        print(f"idle stack (sampler only): {idle:.1f} % of one core")
        for count in COUNTS:
            _measure(stack, cookie, count, idle)


def _measure(stack: _stack.Stack, cookie: str, count: int, idle: float) -> None:
    client = subprocess.Popen(
        [sys.executable, "-m", "bench._wsclient", stack.bind, cookie, str(count), str(SECONDS), str(WARMUP)],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(WARMUP)
    cpu = _cpu_percent(stack, SECONDS)
    outcome = json.loads(client.communicate()[0])
    p50, p99 = _percentile(outcome["delays_ms"], 50), _percentile(outcome["delays_ms"], 99)
    refused = len(outcome["refused"])
    print(
        f"{count} clients: {outcome['connected']} connected, {refused} refused {sorted(set(outcome['refused']))[:5]}, "
        f"{outcome['dropped']} dropped, {outcome['frames']} frames; CPU {cpu:.1f} % of one core; "
        f"delay p50 {p50:.0f} ms, p99 {p99:.0f} ms"
    )
    met = cpu <= GOAL_CPU and p99 <= GOAL_P99 and refused == 0 if count <= 200 else None
    _report.row(
        f"{count} dashboard websocket clients at 1 Hz: CPU of our processes, p99 frame delay",
        f"{cpu:.1f} % of one core, p99 {p99:.0f} ms (p50 {p50:.0f} ms), {outcome['connected']}/{count} connected",
        baseline=f"idle {idle:.1f} %",
        goal=f"<= {GOAL_CPU:.0f} %, p99 <= {GOAL_P99:.0f} ms" if count <= 200 else "reported",
        met=met,
    )


def _cpu_percent(stack: _stack.Stack, seconds: float) -> float:
    before, started = stack.cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    return 100 * (stack.cpu_seconds() - before) / (time.monotonic() - started)


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
