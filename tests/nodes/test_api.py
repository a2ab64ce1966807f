"""The nodes API: admins only; against the plain test engine (in no swarm: 409 "make it one first", the init's
address checked against this box's own), Podman (no Swarm mode), and the real test swarm's manager and worker."""

from __future__ import annotations

import json

import pytest

from accounts.models import AuditEvent
from nodes.models import SwarmInit
from nodes.services import box_addresses
from runtime.swarm import Swarm
from tests.clients import logged_in

pytestmark = pytest.mark.django_db
API = "/api/nodes/"
NOT_MANAGER = "This box is not a swarm manager: make it one first."


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def patch_json(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def admin(admin_user):
    return logged_in(admin_user)


# ---------------------------------------------------------------------------- who may
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", API),
        ("post", API + "init/"),
        ("get", API + "join-token/"),
        ("post", API + "join-token/rotate/"),
        ("patch", API + "abc/"),
        ("delete", API + "abc/"),
    ],
)
def test_members_and_strangers_are_refused(member_user, client, method, url):
    assert getattr(logged_in(member_user), method)(url).status_code == 403
    assert getattr(client, method)(url).status_code in (401, 403)


def test_a_forged_form_post_without_csrf_is_refused(admin_user):
    forged = logged_in(admin_user, csrf=True)
    assert post_json(forged, API + "init/", {"advertise_addr": "203.0.113.5"}).status_code == 403
    assert SwarmInit.objects.count() == 0


# ---------------------------------------------------------------------------- a box in no swarm
@pytest.mark.docker
def test_a_box_in_no_swarm_shows_its_addresses_and_no_nodes(admin, plain_engine):
    body = admin.get(API).json()
    assert body["swarm"]["active"] is False and body["swarm"]["local_state"] == "inactive"
    assert body["nodes"] == [] and body["init"] is None
    assert body["addresses"] == box_addresses() and "127.0.0.1" not in body["addresses"]


@pytest.mark.docker
@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", API + "join-token/", None),
        ("post", API + "join-token/rotate/", {"role": "worker"}),
        ("patch", API + "abc/", {"availability": "drain"}),
        ("delete", API + "abc/", None),
    ],
)
def test_what_needs_a_manager_answers_409_in_words(admin, plain_engine, method, url, body):
    if body is None:
        response = getattr(admin, method)(url)
    else:
        response = getattr(admin, method)(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 409, response.content
    assert response.json() == {"detail": NOT_MANAGER, "code": "not_manager"}


@pytest.mark.docker
@pytest.mark.parametrize("address", ["203.0.113.5", "127.0.0.1", "0.0.0.0", "eth0", "", "10.0.0.1; reboot"])
def test_init_refuses_an_address_that_is_not_this_boxs_and_offers_them(admin, plain_engine, address):
    response = post_json(admin, API + "init/", {"advertise_addr": address})
    assert response.status_code == 400, response.content
    body = response.json()
    if address:  # an empty one is the serializer's "may not be blank"
        assert body["code"] == "invalid" and body["choices"] == box_addresses()
        assert "Choose one of this box's addresses" in body["detail"]
    assert SwarmInit.objects.count() == 0 and not Swarm(plain_engine).state().active


@pytest.mark.docker
def test_init_on_a_good_address_stops_at_the_switch_in_the_tests(admin, plain_engine):
    """settings_test turns `swarm init` off (NODES_INIT): every check before it ran, nothing was queued."""
    addresses = box_addresses()
    if not addresses:
        pytest.skip("this machine has no address outside loopback and container bridges")
    response = post_json(admin, API + "init/", {"advertise_addr": addresses[0]})
    assert response.status_code == 409 and response.json()["code"] == "off"
    assert SwarmInit.objects.count() == 0 and not Swarm(plain_engine).state().active


@pytest.mark.podman
def test_an_engine_without_swarm_mode_says_so(admin, settings):
    from tests.nodes.conftest import PODMAN_ENGINE, _engine_at

    _engine_at(settings, PODMAN_ENGINE)
    response = post_json(admin, API + "init/", {"advertise_addr": "203.0.113.5"})
    assert response.status_code == 409 and response.json()["code"] == "no_swarm_mode"


def test_an_engine_that_does_not_answer_is_503(admin, settings, tmp_path):
    settings.ENGINE_URL = f"unix://{tmp_path}/gone.sock"
    response = admin.get(API)
    assert response.status_code == 503 and response.json()["code"] == "engine"


# ---------------------------------------------------------------------------- the test swarm
@pytest.mark.swarm
def test_the_manager_lists_both_nodes(admin, managed):
    body = admin.get(API).json()
    assert body["swarm"]["manager"] is True and body["addresses"] == []
    nodes = {n["hostname"]: n for n in body["nodes"]}
    assert nodes["casaos-sw1"]["role"] == "manager" and nodes["casaos-sw1"]["leader"] is True
    assert nodes["casaos-sw1"]["current"] is True and nodes["casaos-sw2"]["id"] == managed.node2_id
    assert nodes["casaos-sw2"]["role"] == "worker" and nodes["casaos-sw2"]["state"] == "ready"


@pytest.mark.swarm
def test_a_worker_box_shows_no_nodes_and_refuses_the_rest(admin, on_worker):
    body = admin.get(API).json()
    assert body["swarm"]["active"] is True and body["swarm"]["manager"] is False and body["nodes"] == []
    assert admin.get(API + "join-token/").status_code == 409


@pytest.mark.swarm
def test_join_tokens_are_never_cached(admin, managed):
    response = admin.get(API + "join-token/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["worker_command"] == f"docker swarm join --token {body['worker_token']} {managed.node1_addr}:2377"
    assert body["manager_command"].endswith(f"{body['manager_token']} {managed.node1_addr}:2377")


@pytest.mark.swarm
@pytest.mark.serial
def test_rotating_the_worker_token(admin, managed):
    before = admin.get(API + "join-token/").json()
    response = post_json(admin, API + "join-token/rotate/", {"role": "worker"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    after = response.json()
    assert after["worker_token"] != before["worker_token"] and after["manager_token"] == before["manager_token"]
    assert AuditEvent.objects.filter(action="nodes.rotate", target="worker").exists()
    assert post_json(admin, API + "join-token/rotate/", {"role": "root"}).status_code == 400


@pytest.mark.swarm
@pytest.mark.serial
def test_labels_and_availability_are_set_and_audited(admin, managed, node2_restored):
    url = f"{API}{managed.node2_id}/"
    response = patch_json(admin, url, {"labels": {"disk": "ssd", "gpu": "true"}, "availability": "drain"})
    assert response.status_code == 200, response.content
    assert response.json()["labels"] == {"disk": "ssd", "gpu": "true"} and response.json()["availability"] == "drain"
    event = AuditEvent.objects.get(action="nodes.update")
    assert event.target == "casaos-sw2" and event.details["availability"] == "drain"
    assert patch_json(admin, url, {"availability": "active", "labels": {}}).json()["availability"] == "active"
    assert Swarm(managed.manager_url).node(managed.node2_id).labels == {}


@pytest.mark.swarm
@pytest.mark.parametrize(
    "body",
    [
        {"availability": "asleep"},
        {"labels": {"a b": "x"}},
        {"labels": {"disk": "ssd && node.role==manager"}},
        {"labels": {"k": "v\n"}},
        {"labels": {"k" * 65: "v"}},
        {"labels": {"k": "v" * 129}},
        {"labels": {"": "v"}},
        {"labels": {f"k{i}": "v" for i in range(33)}},
        {"labels": ["disk=ssd"]},
        {"labels": {"k": 5}},
    ],
)
def test_labels_and_availability_are_checked_before_the_engine(admin, managed, body, node2_restored):
    before = Swarm(managed.manager_url).node(managed.node2_id)
    response = patch_json(admin, f"{API}{managed.node2_id}/", body)
    assert response.status_code == 400, response.content
    after = Swarm(managed.manager_url).node(managed.node2_id)
    assert (after.labels, after.availability) == (before.labels, before.availability)


@pytest.mark.swarm
def test_an_unknown_or_malformed_node_is_404(admin, managed):
    for ref in ("nosuchnode0000000000000000", "..", "a%2F..%2Fcontainers"):
        response = patch_json(admin, f"{API}{ref}/", {"availability": "drain"})
        assert response.status_code == 404, (ref, response.content)


@pytest.mark.swarm
def test_removing_a_node_that_is_up_or_this_box_is_refused(admin, managed):
    response = admin.delete(f"{API}{managed.node2_id}/")
    assert response.status_code == 409 and "still up" in response.json()["detail"]
    response = admin.delete(f"{API}{managed.node1_id}/?force=true")
    assert response.status_code == 409 and response.json()["code"] == "current"
    assert len(Swarm(managed.manager_url).nodes()) == 2


@pytest.mark.swarm
def test_init_on_an_active_swarm_is_409(admin, managed):
    response = post_json(admin, API + "init/", {"advertise_addr": managed.node1_addr})
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    assert SwarmInit.objects.count() == 0
