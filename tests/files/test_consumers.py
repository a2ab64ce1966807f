"""The files websocket: only logged-in users, and each user hears only their own task events."""

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from casaos_site.asgi import application
from casaos_site.events import publish
from files.services.common import user_group

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _headers(user):
    client = Client()
    client.force_login(user)
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()), (b"host", b"testserver")]


def test_it_rejects_anonymous_connections(redis_client):
    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/files/", headers=[(b"host", b"testserver")])
        connected, code = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return connected, code

    assert async_to_sync(scenario)() == (False, 4401)


def test_a_user_receives_their_own_task_progress_only(redis_client, admin_user, member_user):
    async def scenario():
        mine = WebsocketCommunicator(application, "/ws/files/?format=json", headers=_headers(member_user))
        html = WebsocketCommunicator(application, "/ws/files/", headers=_headers(member_user))
        assert (await mine.connect(timeout=5))[0] and (await html.connect(timeout=5))[0]
        task = {
            "id": 7,
            "kind": "copy",
            "status": "running",
            "bytes_done": 5,
            "bytes_total": 10,
            "files_done": 0,
            "files_total": 1,
            "percent": 50,
            "error": "",
            "destination": "home",
        }
        await sync_to_async(publish)(user_group(admin_user.pk), "files.task", {**task, "id": 99})
        await sync_to_async(publish)(user_group(member_user.pk), "files.task", task)
        message = json.loads(await mine.receive_from(timeout=5))
        fragment = await html.receive_from(timeout=5)
        await mine.disconnect()
        await html.disconnect()
        return message, fragment

    message, fragment = async_to_sync(scenario)()
    assert message == {"event": "files.task", "data": message["data"]} and message["data"]["id"] == 7
    assert 'id="task-7"' in fragment and 'hx-swap-oob="true"' in fragment
