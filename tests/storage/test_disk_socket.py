"""The storage socket: admins get disk job progress as JSON; members and anonymous callers are turned away."""

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings

from casaos_site.events import apublish
from storage.consumers_disks import FORBIDDEN_CODE
from tests.accounts.test_sockets import _login
from tests.factories import UserFactory
from tests.sockets import page_socket

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _socket(client=None):
    return page_socket("/ws/storage/", client)


def test_it_pushes_job_progress_to_admins(redis_client):
    client = _login(UserFactory(admin=True, username="disk-admin"))

    async def scenario():
        socket = _socket(client)
        connected, _ = await socket.connect(timeout=5)
        assert connected
        try:
            await apublish(settings.STORAGE_GROUP, "storage.job", {"job": 1, "progress": 35, "step": "partitioning"})
            return await socket.receive_json_from(timeout=5)
        finally:
            await socket.disconnect()

    assert async_to_sync(scenario)() == {
        "event": "storage.job",
        "data": {"job": 1, "progress": 35, "step": "partitioning"},
    }


@pytest.mark.parametrize("who", ["member", "anonymous"])
def test_it_turns_away_members_and_anonymous_callers(redis_client, who):
    client = _login(UserFactory(username="disk-member")) if who == "member" else None

    async def scenario():
        socket = _socket(client)
        connected, code = await socket.connect(timeout=5)
        await socket.disconnect()
        return connected, code

    assert async_to_sync(scenario)() == (False, FORBIDDEN_CODE if who == "member" else 4401)
