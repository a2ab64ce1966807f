"""The bell's socket: only its owner hears their notifications, live, as htmx fragments or JSON (real Redis)."""

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from casaos_site.asgi import application
from notifications.services import notify

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _headers(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"].value
    return [(b"cookie", f"sessionid={cookie}".encode()), (b"host", b"testserver"), (b"origin", b"http://testserver")]


def _notify_stop():
    # publish_on_commit: a transaction=True test commits each statement, so the event goes out at once
    notify(kind="apps.stopped", params={"app": "web"}, subject="web")


def test_it_refuses_anonymous(redis_client):
    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/notifications/", headers=[(b"host", b"testserver")])
        connected, code = await communicator.connect(timeout=5)
        return connected, code

    assert async_to_sync(scenario)() == (False, 4401)


def test_the_bell_updates_live_for_its_owner_only(redis_client, admin_user, member_user):
    async def scenario():
        admin = WebsocketCommunicator(application, "/ws/notifications/", headers=_headers(admin_user))
        member = WebsocketCommunicator(application, "/ws/notifications/?format=json", headers=_headers(member_user))
        assert (await admin.connect(timeout=5))[0] and (await member.connect(timeout=5))[0]
        await sync_to_async(_notify_stop)()
        fragment = await admin.receive_from(timeout=5)
        member_got = await member.receive_nothing(timeout=0.5)
        await admin.disconnect()
        await member.disconnect()
        return fragment, member_got

    fragment, member_heard_nothing = async_to_sync(scenario)()
    assert 'id="notify-count"' in fragment and 'hx-swap-oob="true"' in fragment and 'data-unread="1"' in fragment
    assert "web stopped unexpectedly." in fragment
    assert member_heard_nothing


def test_json_clients_get_the_unread_count(redis_client, admin_user):
    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/notifications/?format=json", headers=_headers(admin_user))
        assert (await socket.connect(timeout=5))[0]
        await sync_to_async(_notify_stop)()
        message = json.loads(await socket.receive_from(timeout=5))
        await socket.disconnect()
        return message

    assert async_to_sync(scenario)() == {"event": "notifications.changed", "unread": 1}
