"""The stores websocket: admins only, one HTML row per change (or JSON)."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client

from appstore.services import STORE_EVENT, STORES_GROUP
from casaos_site.asgi import application
from casaos_site.events import apublish

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def headers(user):
    client = Client()
    client.force_login(user)
    return [
        (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()),
        (b"host", b"testserver"),
        (b"origin", b"http://testserver"),
    ]


STATE = {
    "id": 7,
    "pk": 7,
    "name": "<b>Mine</b>",
    "kind": "zip",
    "kind_label": "Zip",
    "source": "https://x/y.zip",
    "enabled": True,
    "is_default": False,
    "status": "syncing",
    "status_label": "Syncing",
    "is_busy": True,
    "progress": 42,
    "message": "reading apps",
    "error": "",
    "app_count": 0,
    "problem_count": 0,
}


def run(path, hdrs):
    async def scenario():
        comm = WebsocketCommunicator(application, path, headers=hdrs)
        connected, code = await comm.connect(timeout=5)
        if not connected:
            return connected, code
        await apublish(STORES_GROUP, STORE_EVENT, STATE)
        text = await comm.receive_from(timeout=5)
        await comm.disconnect()
        return connected, text

    return async_to_sync(scenario)()


def test_it_pushes_store_rows_to_admins(redis_client, admin_user):
    connected, text = run("/ws/appstore/stores/", headers(admin_user))
    assert connected
    assert 'id="store-7"' in text and 'hx-swap-oob="true"' in text and 'value="42"' in text
    assert "&lt;b&gt;Mine&lt;/b&gt;" in text


def test_it_sends_json_on_request(redis_client, admin_user):
    connected, text = run("/ws/appstore/stores/?format=json", headers(admin_user))
    assert connected
    assert json.loads(text)["data"]["progress"] == 42


def test_it_refuses_members_and_anonymous(redis_client, member_user):
    assert run("/ws/appstore/stores/", headers(member_user))[0] is False
    assert run("/ws/appstore/stores/", [(b"host", b"testserver")])[0] is False
