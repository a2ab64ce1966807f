"""Queue latency: how long an install waits in the queue (the pipeline's own `queued` step) while a long operation
run beside it, on a real web + worker stack as the Procfile starts it. Each round installs BENCH_QUEUE_LONG apps
(default 3: one more than the worker's long slots, so they fill them and one waits), starts their uninstalls (a
graceful stop of busybox takes about 10 s: the long operations), then queues the install of another app at once.
Goal: p95 and max of `queued` at most 100 ms (the issue saw 1.6 and 3.8 s in 2 of 6 rounds, behind one uninstall).

Run alone with `python -m bench.queue`. BENCH_QUEUE_ROUNDS (default 6); the image comes from the loopback registry.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid

from bench import _report, _stack

ROUNDS = int(os.environ.get("BENCH_QUEUE_ROUNDS", "6"))
LONG = int(os.environ.get("BENCH_QUEUE_LONG", "3"))
IMAGE = os.environ.get("BENCH_QUEUE_IMAGE", "127.0.0.1:5000/casa/httpd:1")
GOAL_MS = 100


def main() -> None:
    with _stack.running(_report.REDIS_URL) as stack:
        out = subprocess.run(
            [sys.executable, "-m", "bench.queue", "--child"],
            cwd=_stack.ROOT,
            env=stack.env,
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
    queued = json.loads(out.strip().splitlines()[-1])
    p50, p95 = statistics.median(queued), _percentile(queued, 95)
    print(f"queued (ms) per round: {queued}; p50 {p50:.0f}, p95 {p95:.0f}, max {max(queued)}")
    _report.row(
        f"install queued while {LONG} uninstalls fill the long slots (step `queued`), p50 / p95 / max",
        f"{p50:.0f} / {p95:.0f} / {max(queued)} ms ({len(queued)} rounds)",
        goal=f"<= {GOAL_MS} ms",
        met=max(queued) <= GOAL_MS,
    )


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


# ---------------------------------------------------------------------------- the child (the stack's database)
def _child() -> None:
    import django

    django.setup()
    client = _api_client()
    queued = []
    for n in range(ROUNDS):
        first = [_install(client) for _ in range(LONG)]
        for pk in first:
            _wait_status(pk, ("running",))
        for pk in first:
            assert client.delete(f"/api/apps/{pk}/").status_code == 202
        second = _install(client)
        state = _wait_status(second, ("running",))
        busy = [_status(pk) or "done" for pk in first]
        queued.append(state["progress"]["timings"]["queued"])
        print(f"round {n}: queued {queued[-1]} ms (the uninstalls beside it: {', '.join(busy)})", file=sys.stderr)
        for pk in first:
            _wait_gone(pk)
        _remove(second)
    print(json.dumps(queued))


def _api_client():
    from django.test import Client

    from accounts.models import User

    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": User.Role.ADMIN})
    client = Client()
    client.force_login(admin)
    return client


def _install(client) -> int:
    compose = f"services:\n  web:\n    image: {IMAGE}\n    ports: ['127.0.0.1:${{WEBUI_PORT}}:8080']\n"
    name = f"bench-q-{uuid.uuid4().hex[:8]}"
    response = client.post("/api/apps/", {"compose": compose, "name": name}, content_type="application/json")
    assert response.status_code == 202, response.content
    return response.json()["id"]


def _status(pk: int) -> str | None:
    from apps.models import Installation

    return Installation.objects.filter(pk=pk).values_list("status", flat=True).first()


def _wait_status(pk: int, wanted: tuple[str, ...], seconds: float = 120) -> dict:
    from apps.models import Installation

    deadline = time.monotonic() + seconds
    while (status := _status(pk)) not in wanted:
        assert time.monotonic() < deadline and status not in ("failed", "cancelled"), status
        time.sleep(0.05)
    return {"progress": Installation.objects.get(pk=pk).progress}


def _wait_gone(pk: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while _status(pk) is not None:
        assert time.monotonic() < deadline, f"app {pk} was not uninstalled"
        time.sleep(0.2)


def _remove(pk: int) -> None:
    """Force-remove (not timed): the graceful uninstall would wait 10 s for busybox to stop."""
    from apps.models import Installation
    from apps.services.cleanup import app_objects_remove
    from apps.services.common import engine

    inst = Installation.objects.get(pk=pk)
    app_objects_remove(eng=engine(), name=inst.name)
    inst.delete()


if __name__ == "__main__":
    _child() if sys.argv[1:] == ["--child"] else main()
