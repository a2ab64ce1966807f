"""The dashboard websocket: only logged-in users, same origin, real Redis channel layer."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from casaos_site.asgi import application
from storage.services import system_stats_publish
from storage.system import Sampler

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _session_headers(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"].value
    return [(b"cookie", f"sessionid={cookie}".encode()), (b"host", b"testserver")]


def _connect(path: str, headers):
    async def scenario():
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, code = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return connected, code

    return async_to_sync(scenario)()


def test_it_rejects_anonymous_connections(redis_client):
    connected, code = _connect("/ws/system/", [(b"host", b"testserver")])
    assert not connected
    assert code == 4401


def test_it_rejects_a_foreign_origin(redis_client, member_user):
    headers = [*_session_headers(member_user), (b"origin", b"http://evil.example")]
    connected, _ = _connect("/ws/system/", headers)
    assert not connected


def test_logged_in_user_receives_stats_as_json(redis_client, member_user):
    headers = [*_session_headers(member_user), (b"origin", b"http://testserver")]

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/system/?format=json", headers=headers)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        from asgiref.sync import sync_to_async

        await sync_to_async(system_stats_publish)(sampler=Sampler())
        message = json.loads(await communicator.receive_from(timeout=5))
        await communicator.disconnect()
        return message

    message = async_to_sync(scenario)()
    assert message["event"] == "system.stats"
    data = message["data"]
    assert 0 <= data["cpu_percent"] <= 100
    assert data["memory_total"] > 0
    assert data["disks"], "at least the root file system is listed"


def test_logged_in_user_receives_an_html_fragment_for_htmx(redis_client, member_user):
    headers = _session_headers(member_user)

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/system/", headers=headers)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        from asgiref.sync import sync_to_async

        await sync_to_async(system_stats_publish)(sampler=Sampler())
        text = await communicator.receive_from(timeout=5)
        await communicator.disconnect()
        return text

    text = async_to_sync(scenario)()
    assert 'id="system-stats"' in text
    assert "<progress" in text
