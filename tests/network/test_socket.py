"""The Network page's socket: admins get change progress as JSON; members and anonymous callers are turned away."""

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings

from casaos_site.events import apublish
from network.consumers import FORBIDDEN_CODE
from tests.accounts.test_sockets import _login
from tests.factories import UserFactory
from tests.sockets import page_socket

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _socket(client=None):
    return page_socket("/ws/network/", client)


def test_it_pushes_change_progress_to_admins(redis_client):
    client = _login(UserFactory(admin=True, username="net-admin"))

    async def scenario():
        socket = _socket(client)
        connected, _ = await socket.connect(timeout=5)
        assert connected
        try:
            await apublish(settings.NETWORK_GROUP, "network.change", {"id": 1, "status": "waiting"})
            return await socket.receive_json_from(timeout=5)
        finally:
            await socket.disconnect()

    assert async_to_sync(scenario)() == {"event": "network.change", "data": {"id": 1, "status": "waiting"}}


@pytest.mark.parametrize("who", ["member", "anonymous"])
def test_it_turns_away_members_and_anonymous_callers(redis_client, who):
    client = _login(UserFactory(username="net-member")) if who == "member" else None

    async def scenario():
        socket = _socket(client)
        connected, code = await socket.connect(timeout=5)
        await socket.disconnect()
        return connected, code

    assert async_to_sync(scenario)() == (False, FORBIDDEN_CODE if who == "member" else 4401)
