"""Limits of one app, attacked through the live server (daphne, the worker, the events listener, Docker): thousands
of services, image references that are shell or options, requests above the host, and a restart loop. Each check
looks at the engine too: nothing created for a refusal, the inspect data for what was allowed."""

import shlex
import subprocess
import time

import pytest
import yaml

import runtime
from accounts.models import APIToken, AuditEvent
from accounts.services.tokens import api_token_create
from apps.models import Installation
from appstore.models import AppstoreSettings, CatalogApp
from runtime import labels as L
from runtime.compose.limits import PIDS_MAX
from runtime.specs import ContainerSpec
from tests.apps.conftest import BUSYBOX, wipe
from tests.attacks.conftest import Api

pytestmark = [pytest.mark.stack, pytest.mark.docker]

GIB, MIB = 1024**3, 1024**2
THOUSANDS = "services:\n" + "".join(f"  s{i}:\n    image: {BUSYBOX}\n" for i in range(5000))
BAD_IMAGES = ["nginx; id", "--help", "nginx\nid", "x" * 10_240, "Nginx", "nginx:latest --privileged", "$(reboot)"]
OVER_HOST = [
    ("mem_limit: 1t", "mem_limit: 1 TiB is more than this machine's memory"),
    ("mem_reservation: 1t", "mem_reservation: 1 TiB is more than this machine's memory"),
    ("memswap_limit: 1t", "memswap_limit: 1 TiB is more than this machine's memory and swap"),
    ("shm_size: 100g", "shm_size: 100 GiB is more than half of this machine's memory"),
    ("cpus: 1000", "cpus: 1000 CPUs is more than this machine has"),
    ("pids_limit: -1", "pids_limit: -1 is not a process limit"),
    ("pids_limit: 10000000", "pids_limit: 10000000 is not a process limit"),
    ("deploy: {resources: {limits: {memory: 1t}}}", "mem_limit: 1 TiB"),
]


@pytest.fixture
def app(engine):
    """A unique app name; whatever the test left on the engine is removed afterwards."""
    name = f"lim{time.monotonic_ns() % 10**9}"
    yield name
    wipe(engine, name)


@pytest.fixture
def installer_api(live_stack, installer_user, transactional_db) -> Api:
    return Api(live_stack.url, api_token_create(user=installer_user, name="attack", scope=APIToken.Scope.FULL)[1])


def _host_config(engine, container: str) -> dict:
    return engine.container_config(container)["HostConfig"]


def _limits(engine, container: str) -> tuple:
    """(Memory, ShmSize, PidsLimit, NanoCpus) as the engine's inspect data has them."""
    hc = _host_config(engine, container)
    return hc.get("Memory"), hc.get("ShmSize"), hc.get("PidsLimit"), hc.get("NanoCpus")


def _nothing_made(engine, name: str) -> None:
    assert not Installation.objects.filter(name=name).exists()
    assert engine.list({L.APP: name}) == [] and engine.list_networks({L.APP: name}) == []


def _wait_status(admin_api, pk: int, wanted: set[str], timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while (state := admin_api.get(f"/api/apps/{pk}/").json())["status"] not in wanted:
        assert time.monotonic() < deadline, f"the app stayed {state['status']}: {state['error'] or state['detail']}"
        time.sleep(0.5)
    return state


def test_five_thousand_services_are_refused_before_anything_is_queued(admin_api, engine, app):
    assert len(THOUSANDS.encode()) < 256 * 1024  # under the size bound: the service bound is what refuses it
    for path in ("/api/apps/", "/api/apps/custom/"):
        answer = admin_api.post(path, json={"name": app, "compose": THOUSANDS})
        assert answer.status_code == 400, answer.text
        assert "at most 64 services; this one has 5,000" in answer.json()["detail"]
    _nothing_made(engine, app)


@pytest.mark.parametrize("image", BAD_IMAGES)
def test_an_image_reference_outside_the_grammar_is_refused_naming_the_service(admin_api, engine, app, image):
    compose = f"services:\n  front:\n    image: {_yaml_string(image)}\n"
    for path in ("/api/apps/", "/api/apps/custom/"):
        answer = admin_api.post(path, json={"name": app, "compose": compose})
        assert answer.status_code == 400, answer.text
        detail = answer.json()["detail"]
        assert "services.front.image" in detail and "is not a valid image reference" in detail and len(detail) < 600
    run = admin_api.post("/api/apps/custom/", json={"name": app, "docker_run": f"docker run -d {shlex.quote(image)}"})
    assert run.status_code == 400, run.text
    _nothing_made(engine, app)


def _yaml_string(text: str) -> str:
    """A double-quoted YAML scalar holding exactly `text` (a newline stays a newline)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@pytest.mark.parametrize(("line", "said"), OVER_HOST)
def test_requests_above_the_host_are_refused_with_the_reason(admin_api, engine, app, line, said):
    compose = f"services:\n  web:\n    image: {BUSYBOX}\n    {line}\n"
    answer = admin_api.post("/api/apps/", json={"name": app, "compose": compose})
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["code"] == "limits" and f"services.web.{said}" in body["detail"] and "override_limits" in body["detail"]
    _nothing_made(engine, app)


def test_only_an_admin_overrides_and_the_engine_gets_what_was_allowed(admin_api, installer_api, engine, app):
    compose = f"services:\n  web:\n    image: {BUSYBOX}\n    pids_limit: -1\n    stop_grace_period: 1s\n"
    member = installer_api.post("/api/apps/", json={"name": app, "compose": compose, "override_limits": True})
    assert member.status_code == 403 and "Only an administrator" in member.json()["detail"]
    _nothing_made(engine, app)
    assert not AuditEvent.objects.filter(action="app.limits_override").exists()

    answer = admin_api.post("/api/apps/", json={"name": app, "compose": compose, "override_limits": True})
    assert answer.status_code == 202, answer.text
    _wait_status(admin_api, answer.json()["id"], {"running"})
    assert _host_config(engine, f"{app}-web-1").get("PidsLimit") in (None, 0, -1)  # unlimited
    (entry,) = AuditEvent.objects.filter(action="app.limits_override", target=app)
    assert entry.actor.username == "admin" and "services.web.pids_limit: -1" in entry.details["limits"]


def test_settings_edits_are_bound_like_installs(admin_api, engine, app):
    answer = admin_api.post("/api/apps/", json={"name": app, "compose": f"services:\n  web:\n    image: {BUSYBOX}\n"})
    assert answer.status_code == 202, answer.text
    pk = answer.json()["id"]
    _wait_status(admin_api, pk, {"running"})
    assert engine.container_config(f"{app}-web-1")["HostConfig"]["PidsLimit"] == 4096  # the default
    edits = [
        ({"services": {"web": {"memory": "100g"}}}, "mem_limit: 100 GiB is more than this machine's memory"),
        ({"services": {"web": {"cpus": "999"}}}, "cpus: 999 CPUs is more than this machine has"),
        ({"compose": f"services:\n  web:\n    image: {BUSYBOX}\n    shm_size: 100g\n"}, "shm_size: 100 GiB"),
        ({"compose": "services:\n  web:\n    image: 'nginx; id'\n"}, "services.web.image: 'nginx; id' is not a valid"),
        ({"compose": THOUSANDS}, "at most 64 services; this one has 5,000"),
    ]
    for body, said in edits:
        refused = admin_api.post(f"/api/apps/{pk}/settings/", json=body)
        assert refused.status_code == 400 and said in refused.json()["detail"], refused.text
    assert admin_api.get(f"/api/apps/{pk}/history/").json()[0]["operation"] == "install"  # nothing queued
    assert _limits(engine, f"{app}-web-1")[0::2] == (0, 4096)  # the container is as it was

    allowed = admin_api.post(
        f"/api/apps/{pk}/settings/", json={"services": {"web": {"memory": "100g"}}, "override_limits": True}
    )
    assert allowed.status_code == 202, allowed.text
    assert AuditEvent.objects.filter(action="app.limits_override", target=app).exists()
    _wait_operation(admin_api, pk, "settings")
    assert _limits(engine, f"{app}-web-1")[0::2] == (100 * GIB, 4096)  # what the admin allowed, and no more


def _wait_operation(admin_api, pk: int, operation: str, timeout: float = 120) -> dict:
    """The app's latest history line once `operation` ended there."""
    deadline = time.monotonic() + timeout
    while (last := admin_api.get(f"/api/apps/{pk}/history/").json()[0])["operation"] != operation or last[
        "outcome"
    ] == "started":
        assert time.monotonic() < deadline, f"{operation} did not end: {last}"
        time.sleep(0.5)
    assert last["outcome"] == "done", last
    return last


RUN_OVER_HOST = f"docker run -d --pids-limit -1 --memory 1t --shm-size 100g {BUSYBOX} sleep 3600"


def test_a_docker_run_over_the_host_is_refused_then_runs_as_the_admin_allowed(admin_api, engine, app):
    refused = admin_api.post("/api/apps/custom/", json={"name": app, "docker_run": RUN_OVER_HOST})
    assert refused.status_code == 400 and refused.json()["code"] == "limits", refused.text
    detail = refused.json()["detail"]
    assert "pids_limit: -1" in detail and "mem_limit: 1 TiB" in detail and "shm_size: 100 GiB" in detail
    _nothing_made(engine, app)

    body = {"name": app, "docker_run": RUN_OVER_HOST, "override_limits": True}
    answer = admin_api.post("/api/apps/custom/", json=body)
    assert answer.status_code == 202, answer.text
    _wait_status(admin_api, answer.json()["id"], {"running"})
    (container,) = engine.list({L.APP: app})
    memory, shm, pids, _cpus = _limits(engine, container.id)
    assert (memory, shm) == (1024 * GIB, 100 * GIB) and pids in (None, 0, -1)


# ---------------------------------------------------------------------------- store sync, store install, update
def _store_app(root, folder: str, services: dict) -> None:
    (root / "Apps" / folder).mkdir(parents=True, exist_ok=True)
    compose = {"name": folder.lower(), "services": services, "x-casaos": {"main": next(iter(services))}}
    (root / "Apps" / folder / "docker-compose.yml").write_text(yaml.safe_dump(compose))


def _synced(admin_api, store_id: int, after: str | None = None) -> dict:
    deadline = time.monotonic() + 60
    while (state := admin_api.get(f"/api/stores/{store_id}/").json())["status"] not in ("ok", "error") or (
        state["synced_at"] == after
    ):
        assert time.monotonic() < deadline, f"the worker did not sync store {store_id}: {state}"
        time.sleep(0.3)
    return state


BIG = {"image": BUSYBOX, "command": ["sleep", "3600"], "stop_grace_period": "1s"}
OVER = {"mem_limit": "1t", "shm_size": "100g", "pids_limit": -1, "cpus": 512}


@pytest.fixture
def lan_stores(transactional_db):
    settings = AppstoreSettings.load()
    settings.allow_lan_stores = True
    settings.save()


def test_a_store_is_bound_at_sync_and_its_apps_get_what_the_host_has_at_install_and_update(
    admin_api, engine, app, tmp_path, lan_stores
):
    root = tmp_path / "store"
    _store_app(root, "Big", {"main": {**BIG, **OVER}, "plain": BIG})
    _store_app(root, "Crowd", {f"s{i}": {"image": BUSYBOX} for i in range(65)})
    _store_app(root, "Shell", {"web": {"image": "nginx; id"}})
    created = admin_api.post("/api/stores/", json={"path": str(root), "name": "limits"})
    assert created.status_code == 201, created.text
    store_id = created.json()["id"]
    state = _synced(admin_api, store_id)
    reasons = {p["app"]: p["reason"] for p in state["problems"]}
    assert state["app_count"] == 1 and "at most 64 services; this one has 65" in reasons["Crowd"]
    assert "services.web.image: 'nginx; id' is not a valid image reference" in reasons["Shell"]

    big = CatalogApp.objects.get(store_id=store_id, store_app_id="big")
    answer = admin_api.post(f"/api/catalog/{big.pk}/install/", json={"name": app})
    assert answer.status_code == 202, answer.text
    pk = answer.json()["id"]
    _wait_status(admin_api, pk, {"running"})
    host = engine.host_resources()
    lowered = (host.memory, host.memory // 2, PIDS_MAX, host.cpus * 10**9)
    assert _limits(engine, f"{app}-main-1") == lowered
    assert _limits(engine, f"{app}-plain-1")[2] == 4096  # no pids_limit: the default
    (audit,) = AuditEvent.objects.filter(action="app.install", target=app)
    assert "services.main.pids_limit: -1" in audit.details["limits_lowered"]

    # The store's next version asks the same of the other service: an update lowers it as the install did.
    _store_app(root, "Big", {"main": {**BIG, **OVER}, "plain": {**BIG, **OVER}})
    assert admin_api.post(f"/api/stores/{store_id}/sync/").status_code == 202
    _synced(admin_api, store_id, after=state["synced_at"])
    assert admin_api.post(f"/api/apps/{pk}/update/").status_code == 202
    _wait_operation(admin_api, pk, "update")
    assert _limits(engine, f"{app}-plain-1") == lowered and _limits(engine, f"{app}-main-1") == lowered


# ---------------------------------------------------------------------------- adopting a container
@pytest.fixture
def by_hand(engine, registry):
    """A container made without us (no app label and no process limit), running."""
    name = f"hand{time.monotonic_ns() % 10**9}"
    cid = runtime.get_engine(engine.url, pids_limit=0).create(
        ContainerSpec(name=name, image=BUSYBOX, command=("sleep", "3600"), mem_limit=256 * MIB)
    )
    engine.start(cid)
    yield cid
    engine.remove(cid, force=True)


def test_an_adopted_container_keeps_its_limits_and_gets_the_default_process_limit(admin_api, engine, app, by_hand):
    answer = admin_api.post(f"/api/apps/containers/{by_hand}/adopt/", json={"name": app})
    assert answer.status_code == 202, answer.text
    _wait_status(admin_api, answer.json()["id"], {"running"})
    memory, _shm, pids, _cpus = _limits(engine, f"{app}-{_service(engine, app)}-1")
    assert (memory, pids) == (256 * MIB, 4096)


def _service(engine, app: str) -> str:
    (container,) = engine.list({L.APP: app})
    return container.labels[L.SERVICE]


# A settled app whose container then crashes at once on every restart (`restart: always`).
CRASHING = f"""
services:
  worker:
    image: {BUSYBOX}
    restart: always
    stop_grace_period: 1s
    command:
      - sh
      - -c
      - if [ -f /fixed ]; then exec sleep 3600; fi; if [ -f /tmp/ran ]; then echo boom; exit 3; fi; touch /tmp/ran; sleep 4; exit 3
"""


def test_a_restart_loop_is_stopped_and_reported_until_the_app_is_started_again(admin_api, engine, app):
    answer = admin_api.post("/api/apps/", json={"name": app, "compose": CRASHING})
    assert answer.status_code == 202, answer.text
    pk, container = answer.json()["id"], f"{app}-worker-1"
    _wait_status(admin_api, pk, {"running"})

    deadline = time.monotonic() + 120
    while not (state := admin_api.get(f"/api/apps/{pk}/").json())["restart_loop"]:
        assert time.monotonic() < deadline, f"no restart loop reported: {state}"
        time.sleep(0.5)
    (loop,) = state["restart_loop"]
    assert (loop["service"], loop["exit_code"], loop["log"]) == ("worker", 3, "boom") and loop["restarts"] >= 5
    config = engine.container_config(container)
    assert config["HostConfig"]["RestartPolicy"]["Name"] == "no" and not config["State"]["Running"]
    time.sleep(3)
    assert engine.container_config(container)["RestartCount"] == config["RestartCount"]  # it stays down
    state = _wait_status(admin_api, pk, {"stopped"})
    assert "Restarting repeatedly: worker exited with code 3 (boom)" in state["detail"]
    history = admin_api.get(f"/api/apps/{pk}/history/").json()
    assert history[0]["operation"] == "restart_loop" and history[0]["outcome"] == "failed"

    subprocess.run(["docker", "cp", "/etc/hostname", f"{container}:/fixed"], check=True)  # the cause, fixed
    assert admin_api.post(f"/api/apps/{pk}/start/").status_code == 202
    state = _wait_status(admin_api, pk, {"running"})
    assert state["restart_loop"] == [] and "Restarting" not in state["detail"]
    assert engine.container_config(container)["HostConfig"]["RestartPolicy"]["Name"] == "always"
