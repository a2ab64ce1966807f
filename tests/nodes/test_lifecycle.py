"""A machine's life in the swarm, on the real test machines (scripts/swarm-test.sh): node3, a spare dockerd on the
same LAN, is made a manager through the API, joins node1's swarm with the command the API shows, goes down and is
seen down, is removed; a task moves off it where its placement allows; a start whose machine drops fails in words.

Each test leaves node3 standalone and node1's swarm as it found it (the `spare` fixture)."""

from __future__ import annotations

import json
import secrets
import subprocess
import time

import pytest

from nodes import services
from nodes.models import SwarmInit
from nodes.services import swarm_init_run
from runtime import labels as L
from runtime.errors import EngineError
from runtime.specs import ContainerSpec
from runtime.swarm import Placement, Swarm, SwarmEngine
from runtime.swarm import tasks as T
from tests import swarm_spare as node3
from tests.clients import logged_in
from tests.nodes.conftest import _engine_at
from tests.runtime.swarm.conftest import BUSYBOX, swarm_app_remove

pytestmark = [pytest.mark.django_db, pytest.mark.swarm, pytest.mark.serial]
API = "/api/nodes/"
# Ends within a second of SIGTERM (a shell waiting on `sleep` takes its trap when the sleep returns).
IDLE = ("sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done")


@pytest.fixture
def admin(admin_user):
    return logged_in(admin_user)


def listed(admin, hostname: str = node3.HOSTNAME) -> dict | None:
    """The node of that hostname in GET /api/nodes/, or None."""
    response = admin.get(API)
    assert response.status_code == 200, response.content
    return next((n for n in response.json()["nodes"] if n["hostname"] == hostname), None)


def addresses_in(netns: str) -> list[str]:
    """The IPv4 addresses of a machine's own interfaces (node3's namespace is that machine here)."""
    raw = subprocess.run(["ip", "-j", "-4", "-n", netns, "addr"], capture_output=True, text=True, check=True).stdout
    return [a["local"] for link in json.loads(raw) for a in link.get("addr_info", []) if a["local"] != "127.0.0.1"]


def idle_service(app: str, service: str = "idle") -> ContainerSpec:
    return ContainerSpec(
        name=L.container_name(app, service),
        image=BUSYBOX,
        service=service,
        labels=L.container_labels(app, service),
        command=IDLE,
        restart="unless-stopped",  # with "no", Swarm replaces no task of it when its machine goes down
    )


def test_a_machine_is_made_a_manager_through_the_api(admin, spare, settings, monkeypatch):
    """POST /api/nodes/init/ with node3 as this box's engine: node3 becomes the first manager of a swarm of its own,
    and GET /api/nodes/ lists it. The task runs here, directly (what the worker would run)."""
    _engine_at(settings, spare.spare_url)
    settings.NODES_INIT = True
    # "This box" is node3 in this test: its addresses are those of its own namespace, not the test host's.
    monkeypatch.setattr(services, "box_addresses", lambda: addresses_in(node3.NETNS))
    response = admin.post(
        API + "init/", json.dumps({"advertise_addr": spare.node3_addr}), content_type="application/json"
    )
    assert response.status_code == 202, response.content
    swarm_init_run(init_id=response.json()["id"])
    body = admin.get(API).json()
    assert body["init"]["state"] == SwarmInit.State.DONE and body["init"]["error"] == ""
    assert body["swarm"]["active"] and body["swarm"]["manager"] and body["swarm"]["addr"] == spare.node3_addr
    assert [(n["hostname"], n["role"], n["leader"], n["current"], n["state"]) for n in body["nodes"]] == [
        (node3.HOSTNAME, "manager", True, True, "ready")
    ]
    assert admin.get(API + "join-token/").json()["manager_addr"] == f"{spare.node3_addr}:2377"


def test_a_machine_joins_with_the_command_shown_goes_down_and_is_removed(admin, managed, spare):
    command = admin.get(API + "join-token/").json()["worker_command"].split()
    assert command[:4] == ["docker", "swarm", "join", "--token"] and command[5] == f"{spare.node1_addr}:2377"
    token, manager = command[4], command[5]
    node3.docker(spare, "swarm", "join", "--token", token, "--advertise-addr", spare.node3_addr, manager)
    joined = node3.until(lambda: (n := listed(admin)) and n["state"] == "ready" and n, "node3 listed ready")
    assert joined["role"] == "worker" and joined["addr"] == spare.node3_addr and not joined["current"]

    node3.stop(spare)
    since = time.monotonic()
    down = node3.until(lambda: (n := listed(admin)) and n["state"] == "down" and n, "node3 listed down")
    print(f"node3 shown down {time.monotonic() - since:.1f} s after its dockerd ended")  # docs/multi-node.md
    assert down["id"] == joined["id"]
    assert admin.delete(f"{API}{joined['id']}/").status_code == 204
    assert listed(admin) is None


def test_a_task_moves_when_its_machine_goes_down_where_the_placement_allows(spare, node2_restored):
    """Placed on a label that node3 has, then node2 too: node3 hanging (its dockerd stopped, its container left
    running, as a machine cut off the LAN) is seen down, and Swarm runs the task on node2 instead. A service pinned
    to node3 waits, its state saying so."""
    manager, app, mark = Swarm(spare.manager_url), f"sw-{secrets.token_hex(5)}", secrets.token_hex(6)
    node3_id = node3.join(spare)
    manager.update_node(node3_id, labels={"casaos.test": mark})
    engine = SwarmEngine(spare.manager_url, placement=Placement(labels=(("casaos.test", mark),)))
    pinned = SwarmEngine(spare.manager_url, placement=Placement(node=node3_id))
    spec, stays = idle_service(app), idle_service(app, "pinned")
    try:
        engine.create(spec)
        engine.start(spec.name)
        pinned.create(stays)
        pinned.start(stays.name)
        first = engine.tasks(spec.name)[0]
        assert first.node == node3.HOSTNAME and first.state == "running"
        manager.update_node(spare.node2_id, labels={**node2_restored.labels, "casaos.test": mark})
        assert engine.tasks(spec.name)[0].id == first.id  # a label more elsewhere moves nothing by itself

        node3.freeze()
        since = time.monotonic()
        node3.until(lambda: manager.node(node3_id).state == "down", "node3 down")
        down_after = time.monotonic() - since
        moved = node3.until(
            lambda: (t := engine.tasks(spec.name)[0]).state == "running" and t.node == "casaos-sw2" and t,
            "the task running on casaos-sw2",
        )
        print(f"node3 down after {down_after:.1f} s, the task on casaos-sw2 after {time.monotonic() - since:.1f} s")
        assert moved.node_id == spare.node2_id and engine.inspect(spec.name).running
        waiting = node3.until(
            lambda: "no suitable node" in (t := pinned.tasks(stays.name)[0]).error + t.message and t,
            "the pinned task pending on no suitable node",
        )
        print(f"the pinned task: {waiting.state}: {waiting.error or waiting.message}")
        assert waiting.state == "pending"
        assert pinned.inspect(stays.name).state == "created"  # waiting, not running anywhere else
        assert {t.node for t in pinned.tasks(stays.name)} <= {node3.HOSTNAME, ""}
    finally:
        swarm_app_remove(engine, app)


def test_a_start_whose_machine_drops_fails_in_words_and_leaves_no_task(spare):
    """node3 hangs just as a start on it begins (its dockerd stopped: the manager still thinks it up), so the task
    is given to a machine that never runs it: the start fails once node3 shows down, not after start_timeout, and
    the service is back at 0 tasks. A second start, with node3 known down, is refused at once in the same words."""
    app = f"sw-{secrets.token_hex(5)}"
    node3_id = node3.join(spare)
    engine = SwarmEngine(spare.manager_url, placement=Placement(node=node3_id), start_timeout=30)
    spec = idle_service(app)
    try:
        engine.create(spec)
        node3.freeze()
        for attempt in ("midway", "known down"):
            since = time.monotonic()
            with pytest.raises(EngineError) as caught:
                engine.start(spec.name)
            print(f"start {attempt}: failed after {time.monotonic() - since:.1f} s")
            assert caught.value.message == f"casaos-sw3 is down: {spec.name} cannot start there until it is back"
            assert caught.value.template.startswith("%(node)s is down")  # shown in the reader's language
            assert T.replicas(engine._service(spec.name)) == 0 and not engine.inspect(spec.name).running
    finally:
        swarm_app_remove(engine, app)


@pytest.mark.docker
def test_an_install_whose_machine_drops_ends_failed_in_words(
    admin, spare, settings, registry, django_capture_on_commit_callbacks
):
    """POST /api/apps/ placed on node3; node3 hangs as the install starts: the install ends "failed" with the words
    (not "installing" until start_timeout), and nothing of it is left on the swarm."""
    from apps.models import Installation
    from apps.services import app_install_run
    from apps.services.placement import swarm_state_forget
    from casaos_site.i18n import shown

    settings.ENGINE_URL = spare.manager_url
    swarm_state_forget()
    name = f"t{secrets.token_hex(5)}"
    node3.join(spare)
    compose = f"services:\n  idle:\n    image: {BUSYBOX}\n    command: ['sleep', '3600']\n    restart: unless-stopped\n"
    body = {"compose": compose, "name": name, "placement": {"where": "node", "node": node3.HOSTNAME}}
    try:
        with django_capture_on_commit_callbacks():
            response = admin.post("/api/apps/", json.dumps(body), content_type="application/json")
        assert response.status_code == 202, response.content
        node3.freeze()
        inst = app_install_run(installation_id=Installation.objects.get(name=name).pk)
        inst.refresh_from_db()
        assert inst.status == Installation.Status.FAILED
        assert f"casaos-sw3 is down: {name}-idle-1 cannot start there until it is back" in shown(inst.error)
        assert SwarmEngine(spare.manager_url).list({L.APP: name}) == []
    finally:
        swarm_app_remove(SwarmEngine(spare.manager_url), name)
        swarm_state_forget()
