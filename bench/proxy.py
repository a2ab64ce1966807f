"""The forward-auth decision (issue 19: p50 ≤ 5 ms): what Caddy asks our server before every request to an app that
requires our login.

`manage.py serve` on a free port with a throwaway data directory (CASAOS_PROXY=1), asked over one keep-alive
connection as Caddy asks it: its secret, the app's name and the visitor's app-session cookie. Three cases,
interleaved so drift hits each alike: the decision for a known app session (cached after its first answer, as in
use), the first decision for a fresh app session (the database lookups), and the baseline, a request that goes
through the same middleware and touches no database (the favicon's redirect). Run alone with `python -m bench.proxy`.
"""

from __future__ import annotations

import http.client
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench._report import row
from bench.accounts import _free_port, _start

ROUNDS = int(os.environ.get("CASAOS_BENCH_ROUNDS", "30")) * 20  # one decision takes a millisecond or two
WARMUP = 20
GOAL_MS = 5.0


def _setup() -> Path:
    data = Path(tempfile.mkdtemp(prefix="casaos-bench-proxy-"))
    os.environ.update(
        {"CASAOS_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test", "CASAOS_PROXY": "1"}
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data


def _app_sessions(count: int) -> tuple[str, list[str]]:
    """The app `notes` behind our login, and `count` app sessions of its admin (as the ticket hand-over leaves)."""
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import User
    from apps.models import Installation
    from proxy import sso
    from proxy.models import AppAddress
    from proxy.selectors import proxy_secret

    admin = User.objects.create_user(username="alice", password="the right passphrase 1", role=User.Role.ADMIN)
    inst = Installation.objects.create(name="notes", compose="services: {}", status="running", web_port=9000)
    address = AppAddress.objects.create(installation=inst, name="notes", require_login=True)
    cookies = []
    for _ in range(count):
        session = SessionStore()
        session.create()
        url = sso.sso_ticket_issue(user=admin, session_key=session.session_key, address=address, next_path="/")
        cookies.append(sso.sso_ticket_redeem(token=url.split("ticket=")[1], app="notes").cookie)
    return proxy_secret(), cookies


class Caddyish:
    """One keep-alive connection, asking as Caddy's forward_auth does."""

    def __init__(self, port: int, secret: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.secret = secret

    def ask(self, cookie: str) -> tuple[float, int]:
        headers = {"X-Casaos-Proxy-Secret": self.secret, "X-Casaos-App": "notes", "Cookie": f"casaos_sso={cookie}"}
        return self._timed("/proxy/auth/", headers)

    def baseline(self) -> tuple[float, int]:
        return self._timed("/favicon.ico", {})

    def _timed(self, path: str, headers: dict) -> tuple[float, int]:
        started = time.perf_counter()
        self.conn.request("GET", path, headers={"X-Forwarded-Uri": "/", **headers})
        response = self.conn.getresponse()
        response.read()
        return time.perf_counter() - started, response.status


def measure(client: Caddyish, known: str, fresh: list[str]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"known session": [], "first decision": [], "baseline": []}
    for round_no in range(WARMUP + ROUNDS):
        cases = (
            ("known session", lambda: client.ask(known), 200),
            ("first decision", lambda n=round_no: client.ask(fresh[n]), 200),
            ("baseline", client.baseline, 301),
        )
        for name, call, want in cases:
            seconds, status = call()
            if status != want:
                raise RuntimeError(f"{name}: answered {status}, not {want}")
            if round_no >= WARMUP:
                times[name].append(seconds)
    return times


def report(times: dict[str, list[float]]) -> None:
    base = statistics.median(times["baseline"])
    print(f"forward auth through manage.py serve, {ROUNDS} rounds (+{WARMUP} warm-up), cases interleaved")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"  {name:15s} p50 {median * 1000:6.2f} ms  ratio to the baseline {median / base:.2f}x")
    known = statistics.median(times["known session"])
    row(
        "forward-auth decision p50, a known app session (cached) vs a request with no DB",
        f"{known * 1000:.2f} ms",
        f"{base * 1000:.2f} ms",
        known / base,
        goal=f"≤ {GOAL_MS:g} ms",
        met=known * 1000 <= GOAL_MS,
    )
    first = statistics.median(times["first decision"])
    row(
        "forward-auth decision p50, first for an app session (DB lookups) vs a request with no DB",
        f"{first * 1000:.2f} ms",
        f"{base * 1000:.2f} ms",
        first / base,  # no goal of its own: once per app session and PROXY_AUTH_CACHE seconds
    )


def main() -> int:
    data = _setup()
    secret, cookies = _app_sessions(WARMUP + ROUNDS + 1)
    port = _free_port()
    server = _start(port, data / "serve.log")
    try:
        times = measure(Caddyish(port, secret), cookies[-1], cookies)
        report(times)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)  # its own throwaway data directory
    return 0


if __name__ == "__main__":
    sys.exit(main())
