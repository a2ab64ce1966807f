"""The Machines page: admins only; the init form on a box in no swarm (its addresses to choose from), the join
commands and the node cards on the test swarm's manager, and its forms (labels, drain and activate, remove) with
their refusals shown on the page at their 4xx."""

from __future__ import annotations

import pytest
from django.urls import reverse

from runtime.swarm import Swarm
from tests.clients import logged_in

pytestmark = pytest.mark.django_db
PAGE = "/nodes/"


@pytest.fixture
def admin(admin_user):
    return logged_in(admin_user)


def test_the_page_is_for_admins(member_user, client):
    assert reverse("nodes:index") == PAGE
    assert logged_in(member_user).get(PAGE).status_code == 403
    assert client.get(PAGE).status_code == 302
    assert logged_in(member_user).post(reverse("nodes:labels", args=["abc"]), {"labels": ""}).status_code == 403


@pytest.mark.docker
def test_a_box_in_no_swarm_offers_to_become_a_manager(admin, plain_engine):
    from nodes.services import box_addresses

    response = admin.get(PAGE)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    text = response.content.decode()
    assert 'id="nodes-init-form"' in text and 'id="nodes-join"' not in text
    for address in box_addresses():
        assert f'value="{address}"' in text


@pytest.mark.docker
def test_a_wrong_address_is_refused_on_the_page(admin, plain_engine):
    response = admin.post(reverse("nodes:init"), {"advertise_addr": "203.0.113.9"})
    assert response.status_code == 400
    assert "Choose one of this box&#x27;s addresses" in response.content.decode()


@pytest.mark.swarm
def test_the_manager_shows_the_join_commands_and_both_machines(admin, managed):
    response = admin.get(PAGE)
    text = response.content.decode()
    info = Swarm(managed.manager_url).join_info()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert info.command("worker") in text and info.command("manager") in text
    assert f'data-node="{managed.node2_id}"' in text and "casaos-sw2" in text and "casaos-sw1" in text
    assert 'id="nodes-init-form"' not in text
    panel = admin.get(reverse("nodes:panel")).content.decode()
    assert f'data-node="{managed.node2_id}"' in panel and "<html" not in panel


@pytest.mark.swarm
@pytest.mark.serial
def test_labels_and_availability_from_the_page(admin, managed, node2_restored):
    node2 = managed.node2_id
    response = admin.post(reverse("nodes:labels", args=[node2]), {"labels": "disk=ssd\n\n gpu = true \n"})
    assert response.status_code == 302
    cluster = Swarm(managed.manager_url)
    assert cluster.node(node2).labels == {"disk": "ssd", "gpu": "true"}
    assert admin.post(reverse("nodes:availability", args=[node2]), {"availability": "drain"}).status_code == 302
    assert cluster.node(node2).availability == "drain"
    text = admin.get(PAGE).content.decode()
    assert "disk=ssd" in text and 'data-action="activate"' in text
    assert admin.post(reverse("nodes:availability", args=[node2]), {"availability": "active"}).status_code == 302
    assert cluster.node(node2).availability == "active"


@pytest.mark.swarm
@pytest.mark.parametrize("labels", ["disk", "disk=ssd\nrm -rf=/", "a b=c", "k=" + "v" * 200])
def test_bad_labels_are_refused_on_the_page(admin, managed, labels):
    before = Swarm(managed.manager_url).node(managed.node2_id).labels
    response = admin.post(reverse("nodes:labels", args=[managed.node2_id]), {"labels": labels})
    assert response.status_code == 400 and 'id="nodes-refusal"' in response.content.decode()
    assert Swarm(managed.manager_url).node(managed.node2_id).labels == before


@pytest.mark.swarm
def test_removing_an_up_machine_is_refused_on_the_page(admin, managed):
    response = admin.post(reverse("nodes:remove", args=[managed.node2_id]))
    assert response.status_code == 409 and "still up" in response.content.decode()
    assert len(Swarm(managed.manager_url).nodes()) == 2


@pytest.mark.docker
def test_actions_on_a_box_in_no_swarm_say_make_it_one_first(admin, plain_engine):
    response = admin.post(reverse("nodes:rotate"), {"role": "worker"})
    assert response.status_code == 409
    assert "This box is not a swarm manager: make it one first." in response.content.decode()


@pytest.mark.podman
def test_an_engine_without_swarm_mode_is_said_instead_of_the_form(admin, settings):
    from tests.nodes.conftest import PODMAN_ENGINE, _engine_at

    _engine_at(settings, PODMAN_ENGINE)
    text = admin.get(PAGE).content.decode()
    assert 'id="nodes-no-swarm-mode"' in text and 'id="nodes-init-form"' not in text
