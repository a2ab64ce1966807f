"""The Machines page's socket: admins get the init's progress (its error in their language) and node changes as JSON;
members and anonymous callers are turned away."""

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings

from casaos_site.events import apublish
from casaos_site.i18n import deferred
from nodes.consumers import FORBIDDEN_CODE
from tests.accounts.test_sockets import _login
from tests.factories import UserFactory
from tests.sockets import page_socket

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_it_pushes_the_init_and_node_changes_to_admins(redis_client):
    client = _login(UserFactory(admin=True, username="nodes-admin"))
    error = deferred("Choose one of this box's addresses: %(choices)s.", choices="192.0.2.2")

    async def scenario():
        socket = page_socket("/ws/nodes/", client)
        connected, _ = await socket.connect(timeout=5)
        assert connected
        try:
            await apublish(settings.NODES_GROUP, "nodes.init", {"state": "failed", "error": error})
            first = await socket.receive_json_from(timeout=5)
            await apublish(settings.NODES_GROUP, "nodes.changed", {"what": "node", "id": "abc"})
            return first, await socket.receive_json_from(timeout=5)
        finally:
            await socket.disconnect()

    first, second = async_to_sync(scenario)()
    assert first == {
        "event": "nodes.init",
        "data": {"state": "failed", "error": "Choose one of this box's addresses: 192.0.2.2."},
    }
    assert second == {"event": "nodes.changed", "data": {"what": "node", "id": "abc"}}


@pytest.mark.parametrize("who", ["member", "anonymous"])
def test_it_turns_away_members_and_anonymous_callers(redis_client, who):
    client = _login(UserFactory(username="nodes-member")) if who == "member" else None

    async def scenario():
        socket = page_socket("/ws/nodes/", client)
        connected, code = await socket.connect(timeout=5)
        await socket.disconnect()
        return connected, code

    assert async_to_sync(scenario)() == (False, FORBIDDEN_CODE if who == "member" else 4401)
