"""The apps websockets: the current state on connect, then each change, as htmx fragments or JSON."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from apps.models import AppGrant, Installation
from apps.services.common import app_publish_removed, app_update
from casaos_site.asgi import application

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
S = Installation.Status


def _headers(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    return [
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
        (b"host", b"testserver"),
        (b"origin", b"http://testserver"),
    ]


@pytest.fixture
def inst(db, app_name, member_user):
    app = Installation.objects.create(name=app_name, title="Web", compose="services: {}", status=S.PENDING)
    AppGrant.objects.create(installation=app, user=member_user)  # members see the apps granted to them
    return app


def test_it_rejects_anonymous_connections(redis_client, inst):
    async def scenario():
        communicator = WebsocketCommunicator(application, f"/ws/apps/{inst.pk}/", headers=[(b"host", b"testserver")])
        return await communicator.connect(timeout=5)

    connected, code = async_to_sync(scenario)()
    assert not connected and code in (4401, 4404)  # refused, whichever check comes first


def test_it_streams_state_as_json(redis_client, member_user, inst):
    async def scenario():
        communicator = WebsocketCommunicator(
            application, f"/ws/apps/{inst.pk}/?format=json", headers=_headers(member_user)
        )
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        first = json.loads(await communicator.receive_from(timeout=5))
        progress = {
            "percent": 50.0,
            "current": 5,
            "total": 10,
            "images": [{"image": "x", "current": 5, "total": 10, "percent": 50.0, "done": False}],
        }
        await database_sync_to_async(app_update)(inst, status=S.PULLING, progress=progress)
        second = json.loads(await communicator.receive_from(timeout=5))
        await communicator.disconnect()
        return first, second

    first, second = async_to_sync(scenario)()
    assert first["event"] == "app.state" and first["data"]["status"] == "pending"
    assert second["data"]["status"] == "pulling"
    assert second["data"]["progress"]["images"][0]["current"] == 5


def test_it_sends_htmx_fragments_without_admin_buttons_for_members(redis_client, member_user, inst):
    async def scenario():
        communicator = WebsocketCommunicator(application, f"/ws/apps/{inst.pk}/", headers=_headers(member_user))
        await communicator.connect(timeout=5)
        html = await communicator.receive_from(timeout=5)
        await communicator.disconnect()
        return html

    html = async_to_sync(scenario)()
    assert html.lstrip().startswith('<article id="app-install"')
    assert 'data-status="pending"' in html
    assert "cancel-install" not in html


def test_admins_get_the_cancel_button(redis_client, admin_user, inst):
    async def scenario():
        communicator = WebsocketCommunicator(application, f"/ws/apps/{inst.pk}/", headers=_headers(admin_user))
        await communicator.connect(timeout=5)
        html = await communicator.receive_from(timeout=5)
        await communicator.disconnect()
        return html

    assert "cancel-install" in async_to_sync(scenario)()


def test_an_unknown_app_is_refused(redis_client, member_user, db):
    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/apps/999999/", headers=_headers(member_user))
        answer = await communicator.connect(timeout=5)
        # As the server would after the refusal: the consumer ends now, not in the loop's teardown (where its
        # channel-layer receive once hung the test).
        await communicator.disconnect()
        return answer

    assert async_to_sync(scenario)() == (False, 4404)


def test_the_list_socket_rerenders_on_status_changes_only(redis_client, member_user, inst):
    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/apps/", headers=_headers(member_user))
        await communicator.connect(timeout=5)
        await communicator.receive_from(timeout=5)  # the list as it is
        await database_sync_to_async(app_update)(inst, status=S.PULLING)
        first = await communicator.receive_from(timeout=5)
        await database_sync_to_async(app_update)(inst, progress={"percent": 10.0})  # same status: nothing sent
        await database_sync_to_async(app_update)(inst, status=S.RUNNING)
        second = await communicator.receive_from(timeout=5)
        await communicator.disconnect()
        return first, second

    first, second = async_to_sync(scenario)()
    assert 'id="apps-list"' in first and 'data-status="pulling"' in first
    assert 'data-status="running"' in second


def test_the_json_list_socket_tells_members_only_about_their_apps(redis_client, member_user, inst):
    other = Installation.objects.create(name=f"{inst.name}-x", title="Secret", compose="services: {}", status=S.PENDING)

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/apps/?format=json", headers=_headers(member_user))
        await communicator.connect(timeout=5)
        current = json.loads(await communicator.receive_from(timeout=5))
        assert current["data"]["id"] == inst.pk  # the granted app as it is; the other one never
        await database_sync_to_async(app_update)(other, status=S.PULLING)  # not granted: never sent
        await database_sync_to_async(app_update)(inst, status=S.PULLING)
        first = json.loads(await communicator.receive_from(timeout=5))
        await database_sync_to_async(app_publish_removed)(other.pk)
        await database_sync_to_async(app_publish_removed)(inst.pk)
        second = json.loads(await communicator.receive_from(timeout=5))
        assert await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()
        return first, second

    first, second = async_to_sync(scenario)()
    assert (first["event"], first["data"]["id"], first["data"]["status"]) == ("app.state", inst.pk, "pulling")
    assert second == {"event": "app.removed", "data": {"id": inst.pk}}


def test_admins_hear_about_every_app_on_the_json_list_socket(redis_client, admin_user, inst):
    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/apps/?format=json", headers=_headers(admin_user))
        await communicator.connect(timeout=5)
        current = json.loads(await communicator.receive_from(timeout=5))
        await database_sync_to_async(app_update)(inst, status=S.PULLING)
        message = json.loads(await communicator.receive_from(timeout=5))
        await communicator.disconnect()
        return current, message

    current, message = async_to_sync(scenario)()
    assert current["data"]["id"] == inst.pk and current["data"]["status"] == "pending"
    assert (message["data"]["id"], message["data"]["status"]) == (inst.pk, "pulling")


def test_the_list_socket_sends_a_change_made_before_it_joined(redis_client, member_user, inst):
    """The page rendered "pulling"; the app was running before its socket joined the group: the socket says so."""
    app_update(inst, status=S.RUNNING)

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/apps/", headers=_headers(member_user))
        await communicator.connect(timeout=5)
        first = await communicator.receive_from(timeout=5)  # with no event after the connect
        await database_sync_to_async(app_update)(inst, status=S.RUNNING)  # the same status: nothing more
        silent = await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()
        return first, silent

    first, silent = async_to_sync(scenario)()
    assert 'id="apps-list"' in first and 'data-status="running"' in first and silent


def test_a_revoked_grant_stops_the_app_socket(redis_client, member_user, inst):
    async def scenario():
        communicator = WebsocketCommunicator(
            application, f"/ws/apps/{inst.pk}/?format=json", headers=_headers(member_user)
        )
        await communicator.connect(timeout=5)
        await communicator.receive_from(timeout=5)  # the current state
        await database_sync_to_async(AppGrant.objects.filter(installation=inst).delete)()
        await database_sync_to_async(app_update)(inst, status=S.PULLING)
        silent = await communicator.receive_nothing(timeout=1)
        await communicator.disconnect()
        return silent

    assert async_to_sync(scenario)()
