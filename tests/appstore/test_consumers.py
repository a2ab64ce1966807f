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
    """Connect, read what the socket sends first (the stores as they are now), then publish STATE and read that."""

    async def scenario():
        comm = WebsocketCommunicator(application, path, headers=hdrs)
        connected, code = await comm.connect(timeout=5)
        if not connected:
            return connected, code
        while not await comm.receive_nothing(timeout=0.5):
            await comm.receive_from()
        await apublish(STORES_GROUP, STORE_EVENT, STATE)
        text = await comm.receive_from(timeout=5)
        await comm.disconnect()
        return connected, text

    return async_to_sync(scenario)()


def first_messages(path, hdrs) -> list[str]:
    """Everything the socket sends on connect, before any event."""

    async def scenario():
        comm = WebsocketCommunicator(application, path, headers=hdrs)
        connected, _ = await comm.connect(timeout=5)
        assert connected
        texts = []
        while not await comm.receive_nothing(timeout=0.5):
            texts.append(await comm.receive_from())
        await comm.disconnect()
        return texts

    return async_to_sync(scenario)()


def synced_before_the_socket(**fields):
    """A store the page rendered as syncing, whose sync ended (and said so to nobody) before the socket joined."""
    from appstore.models import Store
    from appstore.selectors import store_state
    from casaos_site.events import publish

    store = Store.objects.create(name="Odd store", kind=Store.Kind.ZIP, url="http://127.0.0.1:9/odd.zip", **fields)
    Store.objects.filter(pk=store.pk).update(status=Store.Status.OK, progress=100, app_count=6)
    store.refresh_from_db()
    publish(STORES_GROUP, STORE_EVENT, store_state(store))
    return store


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


def test_it_sends_the_stores_as_they_are_on_connect(redis_client, admin_user):
    """A sync that ends between the page's render and its socket joining the group is shown all the same."""
    from appstore.models import Store

    store = synced_before_the_socket(status=Store.Status.SYNCING, progress=40)
    gone = Store.objects.create(name="Gone store", kind=Store.Kind.ZIP, url="http://127.0.0.1:9/gone.zip")
    gone.delete()  # removed by another admin in the same moment: the list the socket sends no longer has it

    texts = first_messages("/ws/appstore/stores/", headers(admin_user))
    assert len(texts) == 1
    assert texts[0].startswith('<div id="store-list" hx-swap-oob="innerHTML">')
    assert f'id="store-{store.pk}"' in texts[0] and 'data-status="ok"' in texts[0] and "6 apps" in texts[0]
    assert "Gone store" not in texts[0]


def test_it_sends_no_store_yet_on_connect_when_there_is_none(redis_client, admin_user):
    from appstore.models import Store

    Store.objects.all().delete()
    assert "No store yet." in first_messages("/ws/appstore/stores/", headers(admin_user))[0]


def test_it_sends_each_store_state_on_connect_in_json(redis_client, admin_user):
    from appstore.models import Store

    Store.objects.all().delete()
    store = synced_before_the_socket(status=Store.Status.SYNCING)
    texts = first_messages("/ws/appstore/stores/?format=json", headers(admin_user))
    assert [(m["event"], m["data"]["id"], m["data"]["status"]) for m in map(json.loads, texts)] == [
        (STORE_EVENT, store.pk, "ok")
    ]
