"""The Remotes page and its socket: admins only; a refused add shows the server's words at its 4xx, no secret."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings

from casaos_site.asgi import application
from casaos_site.events import publish
from remotes.models import Remote
from tests.clients import logged_in

from .conftest import PASSWORD, USER

pytestmark = pytest.mark.django_db(transaction=True)


def form(server, password: str) -> dict:
    return {"name": "Cloud", "kind": "webdav", "webdav-url": f"http://127.0.0.1:{server.port}/", "webdav-user": USER,
            "webdav-pass": password, "smb-host": "ignored.example"}  # fmt: skip


def test_members_get_no_page(member_user):
    assert logged_in(member_user).get("/remotes/").status_code == 403


def test_an_admin_adds_a_remote_and_sees_it_mounted(webdav_server, remote_dirs, admin_user):
    client = logged_in(admin_user)
    added = client.post("/remotes/add/", form(webdav_server, PASSWORD))
    assert added.status_code == 302, added.content.decode()[:2000]
    page = client.get("/remotes/").content.decode()
    assert "Open @Cloud in Files" in page and PASSWORD not in page
    assert Remote.objects.get().options == {"url": f"http://127.0.0.1:{webdav_server.port}/", "user": USER}


def test_a_refused_add_shows_why_and_keeps_nothing(webdav_server, remote_dirs, admin_user):
    refused = logged_in(admin_user).post("/remotes/add/", form(webdav_server, "Wrong-Pass-9"))
    assert refused.status_code == 422
    text = refused.content.decode()
    assert "401 Unauthorized" in text and "Wrong-Pass-9" not in text and not Remote.objects.exists()


def _session(user) -> list[tuple[bytes, bytes]]:
    cookie = logged_in(user).cookies["sessionid"].value
    return [(b"cookie", f"sessionid={cookie}".encode()), (b"host", b"testserver")]


@pytest.mark.redis
def test_the_socket_is_for_admins_and_carries_sync_progress(redis_client, admin_user, member_user):
    async def member():
        communicator = WebsocketCommunicator(application, "/ws/remotes/", headers=_session(member_user))
        connected, code = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return connected, code

    assert async_to_sync(member)() == (False, 4403)

    async def admin():
        communicator = WebsocketCommunicator(application, "/ws/remotes/", headers=_session(admin_user))
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        from asgiref.sync import sync_to_async

        await sync_to_async(publish)(settings.REMOTES_GROUP, "remotes.sync", {"job": 1, "percent": 40})
        got = json.loads(await communicator.receive_from(timeout=5))
        await communicator.disconnect()
        return got

    assert async_to_sync(admin)() == {"event": "remotes.sync", "data": {"job": 1, "percent": 40}}
