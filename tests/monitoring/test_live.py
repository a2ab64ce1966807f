"""Live points for the charts: the 10 s point reaches the dashboard socket as JSON (fragment mode too), and an
app's point reaches only sockets of users who may see that app."""

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from apps.models import AppGrant, Installation
from casaos_site.asgi import application
from casaos_site.events import publish
from monitoring.history import METRICS_EVENT, HistoryRecorder, points_payload
from tests.factories import UserFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
T0 = 1_800_000_000


def _headers(user):
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"].value
    return [(b"cookie", f"sessionid={cookie}".encode()), (b"host", b"testserver"), (b"origin", b"http://testserver")]


def _receive(user, path: str, send) -> list[str]:
    """Connect, run `send` (which publishes), and collect what arrives within a moment."""

    async def scenario():
        communicator = WebsocketCommunicator(application, path, headers=_headers(user))
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        await sync_to_async(send)()
        got = []
        while not await communicator.receive_nothing(timeout=1):
            got.append(await communicator.receive_from(timeout=1))
        await communicator.disconnect()
        return got

    return async_to_sync(scenario)()


def test_the_recorders_point_reaches_the_dashboard_socket_as_json(redis_client, member_user, metrics_dir):
    def record():
        recorder = HistoryRecorder(root=metrics_dir)
        base = {"cpu_percent": 42.0, "memory_percent": 50.0, "memory_used": 1, "interfaces": [], "disks": []}
        recorder.add({**base, "time": T0})
        recorder.add({**base, "time": T0 + 10})  # the next slot: the first one is written and pushed
        recorder.close()

    got = _receive(member_user, "/ws/system/", record)  # the htmx socket of the home page
    [point] = [p for p in (json.loads(m) for m in got if m.startswith("{")) if p["data"]["time"] == T0]
    assert point["event"] == METRICS_EVENT
    assert point["data"] == {"time": T0, "app": None, "points": {"cpu": 42.0, "memory": 50.0, "memory_used": 1.0}}


def test_an_apps_point_reaches_only_those_who_may_see_the_app(redis_client, admin_user, metrics_dir):
    app = Installation.objects.create(name="web", compose="services: {}", status=Installation.Status.RUNNING)
    granted, other = UserFactory(username="granted"), UserFactory(username="other")
    AppGrant.objects.create(installation=app, user=granted)

    def send():
        publish(f"app.{app.pk}", METRICS_EVENT, points_payload(T0, {("app", str(app.pk), "cpu"): 5.0}, app=app.pk))

    [message] = _receive(granted, f"/ws/apps/{app.pk}/live/", send)
    assert json.loads(message)["data"] == {"time": T0, "app": app.pk, "points": {"cpu": 5.0}}

    def revoke_then_send():
        AppGrant.objects.filter(user=granted).delete()
        send()

    assert _receive(granted, f"/ws/apps/{app.pk}/live/", revoke_then_send) == []

    async def refused():
        communicator = WebsocketCommunicator(application, f"/ws/apps/{app.pk}/live/", headers=_headers(other))
        connected, code = await communicator.connect(timeout=5)
        return connected, code

    assert async_to_sync(refused)() == (False, 4404)
