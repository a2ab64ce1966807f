"""Installed-apps benchmark: restart and update of a one-service app through our services, against the Docker CLI
doing the same on the same engine in the same run (`docker restart`; `docker pull` + `docker rm -f` + `docker run`).

Both sides end when the web port answers. The update moves a registry tag between the two test images each round,
so both sides really pull and recreate. Prints medians and ratios. Run alone with `python -m bench.apps_control`.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bench._report import REDIS_URL, row

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = "127.0.0.1:5000"
ROUNDS = int(os.environ.get("BENCH_APPS_ROUNDS", "5"))


def main() -> None:
    """Measure in a child process with its own data directory, database and Redis database."""
    data_dir = tempfile.mkdtemp(prefix="casaos-bench-apps-")
    env = {
        **os.environ,
        "CASAOS_DATA_DIR": data_dir,
        "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test",
        "CASAOS_REDIS_URL": REDIS_URL,
    }
    env.pop("DATABASE_URL", None)
    try:
        subprocess.run([sys.executable, "-m", "bench.apps_control", "--child"], cwd=ROOT, env=env, check=True)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _child() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from accounts.models import User
    from apps.services import app_install, app_install_run
    from apps.services.cleanup import app_objects_remove
    from apps.services.common import engine

    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": User.Role.ADMIN})
    ours_tag, base_tag = f"b{uuid.uuid4().hex[:8]}", f"b{uuid.uuid4().hex[:8]}"
    for tag in (ours_tag, base_tag):
        _retag("1", tag)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    compose = (
        f"services:\n  web:\n    image: {REGISTRY}/casa/httpd:{ours_tag}\n    init: true\n"
        "    stop_grace_period: 1s\n    ports: ['127.0.0.1:${WEBUI_PORT}:8080']\n"
    )
    inst = app_install(user=admin, compose=compose, name=name)
    app_install_run(installation_id=inst.pk)
    inst.refresh_from_db()
    assert inst.status == "running", inst.error
    base = _Baseline(f"{REGISTRY}/casa/httpd:{base_tag}")
    try:
        restart_ours, restart_base, update_ours, update_base = [], [], [], []
        for i in range(ROUNDS + 1):  # the first round warms up and is not counted
            r_ours, r_base = _restart_ours(admin, inst), base.restart()
            source = "2" if i % 2 == 0 else "1"
            _retag(source, ours_tag)
            _retag(source, base_tag)
            u_ours, u_base = _update_ours(admin, inst, f"hello v{source}"), base.update(f"hello v{source}")
            if i:
                restart_ours.append(r_ours)
                restart_base.append(r_base)
                update_ours.append(u_ours)
                update_base.append(u_base)
        _report("restart", restart_ours, restart_base, "docker restart -t 1")
        _report("update", update_ours, update_base, "docker pull + rm -f + run")
    finally:
        base.remove()
        app_objects_remove(eng=engine(), name=name)
        for tag in (ours_tag, base_tag):
            subprocess.run(["docker", "rmi", "-f", f"{REGISTRY}/casa/httpd:{tag}"], capture_output=True)


def _restart_ours(admin, inst) -> float:
    from apps.services.control import app_control, app_operation_run

    started = time.perf_counter()
    event = app_control(user=admin, installation=inst, action="restart")
    app_operation_run(event_id=event.pk)
    _wait_http(inst.web_port)
    elapsed = time.perf_counter() - started
    event.refresh_from_db()
    assert event.outcome == "done", event.message
    return elapsed


def _update_ours(admin, inst, expect: str) -> float:
    from apps.services.control import app_operation_run
    from apps.services.update import app_update_start

    started = time.perf_counter()
    event = app_update_start(user=admin, installation=inst)
    app_operation_run(event_id=event.pk)
    _wait_http(inst.web_port, expect)
    elapsed = time.perf_counter() - started
    event.refresh_from_db()
    assert event.outcome == "done", event.message
    return elapsed


class _Baseline:
    """The same app by hand with the Docker CLI."""

    def __init__(self, image: str) -> None:
        self.image, self.name, self.port = image, f"bench-cli-{uuid.uuid4().hex[:8]}", _free_port()
        self._run()

    def _run(self) -> None:
        _docker("run", "-d", "--init", "--name", self.name, "-p", f"127.0.0.1:{self.port}:8080", self.image)
        _wait_http(self.port)

    def restart(self) -> float:
        started = time.perf_counter()
        _docker("restart", "-t", "1", self.name)
        _wait_http(self.port)
        return time.perf_counter() - started

    def update(self, expect: str) -> float:
        started = time.perf_counter()
        _docker("pull", "-q", self.image)
        _docker("rm", "-f", self.name)
        _docker("run", "-d", "--init", "--name", self.name, "-p", f"127.0.0.1:{self.port}:8080", self.image)
        _wait_http(self.port, expect)
        return time.perf_counter() - started

    def remove(self) -> None:
        subprocess.run(["docker", "rm", "-f", self.name], capture_output=True)


def _report(what: str, ours: list[float], base: list[float], label: str) -> None:
    o, b = statistics.median(ours), statistics.median(base)
    print(f"{what}: one-service app, {len(ours)} rounds")
    print(f"  {label:<28} median {b * 1000:7.0f} ms   (all: {_ms(base)})")
    print(f"  {'ours (service + task)':<28} median {o * 1000:7.0f} ms   (all: {_ms(ours)})")
    print(f"  ratio                        {o / b:7.2f} x")
    row(f"{what} of a one-service app (service + task) vs {label}", f"{o * 1000:.0f} ms", f"{b * 1000:.0f} ms", o / b)


def _ms(values: list[float]) -> str:
    return ", ".join(f"{v * 1000:.0f}" for v in values)


def _retag(source: str, tag: str) -> None:
    """Point casa/httpd:<tag> at casa/httpd:<source> in the registry (a publisher pushing a new version)."""
    accept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
    get = urllib.request.Request(f"http://{REGISTRY}/v2/casa/httpd/manifests/{source}", headers={"Accept": accept})
    with urllib.request.urlopen(get, timeout=10) as resp:
        body, media = resp.read(), resp.headers["Content-Type"]
    put = urllib.request.Request(
        f"http://{REGISTRY}/v2/casa/httpd/manifests/{tag}", data=body, method="PUT", headers={"Content-Type": media}
    )
    urllib.request.urlopen(put, timeout=10).close()


def _wait_http(port: int, expect: str = "", timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                if not expect or resp.read().decode().strip() == expect:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"port {port} did not answer {expect!r}")
        time.sleep(0.02)


def _docker(*args: str) -> None:
    subprocess.run(["docker", *args], check=True, capture_output=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child()
    else:
        main()
