"""Login timing: an existing user with a wrong password vs an unknown user vs a locked account.

SECURITY.md lesson 6: the answer must not tell whether an account exists, neither by its text nor by its time.
Each round POSTs the real login form of `manage.py serve` (on a free port, with a throwaway data directory) once
per case, interleaved so drift hits every case alike; it prints the median and p95 of each case and their ratios
to the wrong-password baseline measured in the same run. Run alone with `python -m bench.accounts`.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from bench._report import row

ROOT_DIR = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("CASAOS_BENCH_ROUNDS", "30"))
WARMUP = 3
WRONG = "not the password at all"
CASES = {"wrong password": "alice", "unknown user": "nobody-here", "locked account": "carol"}
# What legitimately differs between two answers: the per-response CSRF mask and the name typed back in the form.
CSRF_MASKS = re.compile(rb'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]*')


def _setup() -> Path:
    """A data directory and database of our own; thresholds out of reach so only `carol` is ever locked."""
    data = Path(tempfile.mkdtemp(prefix="casaos-bench-accounts-"))
    os.environ.update(
        {
            "CASAOS_DATA_DIR": str(data),
            "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test",
            "CASAOS_LOCKOUT_ACCOUNT_FAILURES": "1000000",
            "CASAOS_LOCKOUT_ADDRESS_FAILURES": "1000000",
            "CASAOS_LOCKOUT_THROTTLE_AFTER": "1000000",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _users()
    return data


def _users() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import FailureCounter, User

    User.objects.create_user(username="alice", password="the right passphrase 1", role=User.Role.ADMIN)
    User.objects.create_user(username="carol", password="the right passphrase 2", role=User.Role.MEMBER)
    FailureCounter.objects.create(
        kind=FailureCounter.Kind.PAIR,
        key="carol 127.0.0.1",  # locked from the address the bench posts from
        failures=99,
        last_failure_at=timezone.now(),
        locked_until=timezone.now() + timedelta(days=1),
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "CASAOS_BIND": f"127.0.0.1:{port}"}
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve"],
        cwd=ROOT_DIR,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not start; see {log}")


class LoginForm:
    """One keep-alive connection to the login page, with its CSRF cookie and form token."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.request("GET", "/login/")
        response = self.conn.getresponse()
        page = response.read()
        cookie = response.getheader("Set-Cookie", "")
        self.csrf = re.search(r"csrftoken=([^;]+)", cookie).group(1)
        self.token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()

    def post(self, username: str) -> tuple[float, int, bytes]:
        body = urlencode({"csrfmiddlewaretoken": self.token, "username": username, "password": WRONG})
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={self.csrf}",
            "Referer": "http://127.0.0.1/login/",
        }
        started = time.perf_counter()
        self.conn.request("POST", "/login/", body=body, headers=headers)
        response = self.conn.getresponse()
        page = response.read()
        seconds = time.perf_counter() - started
        return seconds, response.status, CSRF_MASKS.sub(rb"\1", page).replace(username.encode(), b"<username>")


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def measure(form: LoginForm) -> tuple[dict[str, list[float]], dict[str, bytes]]:
    times: dict[str, list[float]] = {case: [] for case in CASES}
    pages: dict[str, bytes] = {}
    for round_no in range(WARMUP + ROUNDS):
        for case, username in CASES.items():
            seconds, status, page = form.post(username)
            if status != (429 if case == "locked account" else 200):
                raise RuntimeError(f"{case}: the login page answered {status}")
            pages[case] = page
            if round_no >= WARMUP:
                times[case].append(seconds)
    return times, pages


def report(times: dict[str, list[float]], pages: dict[str, bytes]) -> None:
    base = times["wrong password"]
    base_median, base_p95 = statistics.median(base), _p95(base)
    print(f"login POST through manage.py serve, {ROUNDS} rounds (+{WARMUP} warm-up), cases interleaved")
    for case, samples in times.items():
        median, p95 = statistics.median(samples), _p95(samples)
        print(
            f"  {case:15s} median {median * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"
            f"  ratio to wrong password: median {median / base_median:.2f}x  p95 {p95 / base_p95:.2f}x"
        )
    same = pages["wrong password"] == pages["unknown user"]
    print(f"  wrong password and unknown user get the same page: {'yes' if same else 'NO'}")
    for case, samples in times.items():
        if case != "wrong password":
            median = statistics.median(samples)
            row(
                f"login POST, {case} vs wrong password (median; no timing tell)",
                f"{median * 1000:.1f} ms",
                f"{base_median * 1000:.1f} ms",
                median / base_median,
            )
    row("login: wrong password and unknown user get the same page", "yes" if same else "no", goal="same", met=same)


def main() -> int:
    data = _setup()
    port = _free_port()
    server = _start(port, data / "serve.log")
    try:
        times, pages = measure(LoginForm(port))
        report(times, pages)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)  # its own throwaway data directory
    return 0


if __name__ == "__main__":
    sys.exit(main())
