"""Making this box a manager: the request (checked, recorded, audited, queued) and the task (what the engine says
afterwards is recorded), against engines where it cannot make a swarm (Podman, which has no Swarm mode, and the test
swarm's manager, already one); the plain test engine must stay plain. A real `swarm init` through the API runs on the
spare machine, node3: tests/nodes/test_lifecycle.py."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from casaos_site import events
from nodes import services
from nodes.models import SwarmInit
from nodes.services import NodesRefused, box_addresses, swarm_init, swarm_init_run
from runtime.swarm import Swarm
from tests.nodes.conftest import PODMAN_ENGINE, _engine_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    """The nodes.init events published in this process, in order."""
    seen = []

    def handler(event, data):
        seen.append(data)

    events.listen(services.INIT_EVENT, handler)
    yield seen
    events._listeners[services.INIT_EVENT].remove(handler)


@pytest.mark.docker
def test_a_request_is_recorded_audited_and_queued_after_commit(
    admin_user, plain_engine, settings, django_capture_on_commit_callbacks
):
    """The switch on, a good address: the row and the audit are written, and the task is queued only on commit
    (captured here and never run: the plain test engine must never become a swarm)."""
    addresses = box_addresses()
    if not addresses:
        pytest.skip("this machine has no address outside loopback and container bridges")
    settings.NODES_INIT = True
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        row = swarm_init(user=admin_user, advertise_addr=addresses[0])
    assert row.state == SwarmInit.State.QUEUED and row.advertise_addr == addresses[0]
    assert AuditEvent.objects.filter(action="nodes.init", target=addresses[0]).exists()
    assert len(callbacks) == 2  # the task's .delay() and the "initialising" event
    with pytest.raises(NodesRefused) as second:
        swarm_init(user=admin_user, advertise_addr=addresses[0])
    assert second.value.status == 409 and second.value.code == "busy"
    assert not Swarm(plain_engine).state().active


@pytest.mark.podman
def test_a_failed_init_is_recorded_with_the_engines_reason(admin_user, settings, heard):
    _engine_at(settings, PODMAN_ENGINE)
    row = SwarmInit.objects.create(advertise_addr="203.0.113.7", requested_by=admin_user)
    swarm_init_run(init_id=row.pk)
    row.refresh_from_db()
    assert row.state == SwarmInit.State.FAILED and "no Swarm mode" in row.error and row.finished_at
    assert [e["state"] for e in heard] == ["initialising", "failed"] and "no Swarm mode" in heard[-1]["error"]


@pytest.mark.swarm
def test_a_redelivered_init_that_finds_its_swarm_is_done(admin_user, managed, heard):
    row = SwarmInit.objects.create(advertise_addr=managed.node1_addr, requested_by=admin_user)
    swarm_init_run(init_id=row.pk)
    row.refresh_from_db()
    assert row.state == SwarmInit.State.DONE and row.error == "" and row.node_id == managed.node1_id
    assert heard[-1] == {"state": "done", "error": ""}
    swarm_init_run(init_id=row.pk)  # once more (a redelivered message): nothing happens
    assert len(heard) == 2


@pytest.mark.swarm
def test_swarm_active_is_true_on_a_manager_only(swarm_cluster, settings):
    _engine_at(settings, swarm_cluster.worker_url)
    assert services.swarm_active() is False
    _engine_at(settings, swarm_cluster.manager_url)
    assert services.swarm_active() is True
    services.swarm_active_forget()


@pytest.mark.docker
def test_swarm_active_is_false_on_a_plain_engine_and_one_away(plain_engine, settings, tmp_path):
    assert services.swarm_active() is False
    settings.ENGINE_URL = f"unix://{tmp_path}/gone.sock"
    assert services.swarm_active() is False
