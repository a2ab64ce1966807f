"""Health: every component checked for real, and a dead component named."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from casaos_site import health

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.stack
@pytest.mark.docker
def test_it_reports_every_component_ok(live_stack, engine, transactional_db):
    with urllib.request.urlopen(f"{live_stack.url}/healthz", timeout=30) as resp:
        report = json.load(resp)
        assert resp.status == 200
    assert report == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "engine": "ok", "worker": "ok"}}


def test_it_names_a_dead_engine(settings, tmp_path):
    settings.ENGINE_URL = f"unix://{tmp_path}/no-such.sock"
    state = health.check_engine()
    assert state != "ok"
    assert "engine unreachable" in state


def test_it_names_an_unreachable_redis(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    assert health.check_redis().startswith("redis unreachable")


@pytest.mark.parametrize(
    "redis_url",
    ["redis://127.0.0.1:1/0", os.environ["CASAOS_TEST_SPARE_REDIS_URL"]],  # no broker; one no worker listens to
    ids=["broker-down", "no-worker"],
)
def test_it_reports_no_worker_without_one(redis_url, redis_client):
    answer = _worker_check(redis_url)
    assert answer.startswith("no worker answered"), answer


@pytest.mark.redis
def test_a_worker_whose_every_slot_is_busy_is_alive(redis_client):
    # One slot, held by a long task, and more work queued behind it: the worker is busy, not dead.
    import redis as redis_lib
    from celery import Celery

    from tests.apps.test_worker_crash import BROKER, Worker

    broker = redis_lib.Redis.from_url(BROKER)
    broker.flushdb()
    worker = Worker("--concurrency=1", "--include=tests.core.busy_tasks")
    worker.start()
    try:
        sender = Celery(broker=BROKER, set_as_current=False)
        for _ in range(2):
            sender.send_task("tests.hold", args=[60])
        deadline = time.monotonic() + 30
        while b"tests.hold" not in worker.log_path.read_bytes():
            assert time.monotonic() < deadline, "the worker did not take the task"
            time.sleep(0.1)
        assert _worker_check(BROKER) == "ok"
    finally:
        worker.kill()
        broker.flushdb()


def _worker_check(redis_url: str) -> str:
    """check_worker in a fresh process, as the web server would run it."""
    code = "import django; django.setup(); from casaos_site.health import check_worker; print(check_worker())"
    env = {
        **os.environ,
        "CASAOS_REDIS_URL": redis_url,
        "CASAOS_HEALTH_TIMEOUT": "1",
        "DJANGO_SETTINGS_MODULE": "casaos_site.settings_test",
    }
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    return result.stdout.strip() or result.stderr


def test_healthz_is_degraded_and_503_when_a_part_is_down(client, settings, tmp_path, db, monkeypatch):
    settings.ENGINE_URL = f"unix://{tmp_path}/no-such.sock"
    monkeypatch.setattr(health, "CHECKS", {**health.CHECKS, "worker": lambda: "ok"})
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["engine"].startswith("engine unreachable")


def test_status_page_names_the_broken_part(client, admin_user, settings, tmp_path, monkeypatch):
    settings.ENGINE_URL = f"unix://{tmp_path}/no-such.sock"
    monkeypatch.setattr(health, "CHECKS", {**health.CHECKS, "worker": lambda: "ok"})
    client.force_login(admin_user)
    response = client.get("/system/status/")
    assert response.status_code == 200
    assert b"engine unreachable" in response.content


def test_status_page_needs_login(client, db):
    response = client.get("/system/status/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_status_page_answers_405_to_writes_and_runs_no_check(client, admin_user, monkeypatch, method):
    ran = []
    monkeypatch.setattr("casaos_site.views.run_checks", lambda: ran.append(method))
    client.force_login(admin_user)
    response = getattr(client, method)("/system/status/")
    assert (response.status_code, ran) == (405, [])
    assert response["Allow"] == "GET, HEAD"


def test_healthz_refuses_post(client, db):
    assert client.post("/healthz").status_code == 405


DNSNAME = Path("/usr/lib/cni/dnsname")


@pytest.fixture
def podman_without_dnsname(settings, registry):
    """Podman as it is on a fresh Debian machine without the recommended dnsname CNI plugin."""
    import runtime

    settings.ENGINE_URL = runtime.PODMAN_URL
    health._names_checked.clear()
    aside = DNSNAME.with_name("dnsname.casaos-test-aside")
    DNSNAME.rename(aside)
    try:
        yield
    finally:
        aside.rename(DNSNAME)
        health._names_checked.clear()


@pytest.mark.podman
@pytest.mark.serial  # Podman tests running beside it would create networks without name resolution
def test_the_status_page_tells_a_podman_that_cannot_resolve_service_names(podman_without_dnsname, client, admin_user):
    assert health.check_engine() == health.NO_SERVICE_NAMES
    client.force_login(admin_user)
    page = client.get("/system/status/").content.decode()
    assert "cannot find each other by service name" in page and "dnsname" in page


@pytest.mark.podman
def test_podman_as_set_up_resolves_service_names(settings, registry):
    import runtime

    settings.ENGINE_URL = runtime.PODMAN_URL
    health._names_checked.clear()
    assert health.check_engine() == "ok"
