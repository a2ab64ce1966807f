"""Every kind of websocket stays open while its page is open, however long nothing happens on it.

redis-py 8 reads with a 5 s socket timeout by default, and channels-redis waits 5 s in BZPOPMIN on each socket's
channel: every socket that heard nothing for about 5 s died with 1011. Each kind sits idle for a minute here (all
at once, in one loop), then must still receive its next event.
"""

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from apps.services.common import APPS_GROUP, STATE_EVENT
from appstore.services import STORE_EVENT, STORES_GROUP
from casaos_site.asgi import application
from casaos_site.events import apublish
from files.consumers import CHANGED_EVENT
from files.services.common import user_group
from runtime import labels as L
from storage.services import STATS_EVENT, SYSTEM_GROUP
from tests.apps.conftest import install_running
from tests.apps.test_manage_views import WEB, client_for

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
IDLE_SECONDS = 60


@pytest.fixture
def app(docker_engine, admin_user, app_name):
    return install_running(admin_user, WEB, app_name)


async def _open(path: str, user) -> WebsocketCommunicator:
    session = await database_sync_to_async(lambda: client_for(user, stepped_up=True).session)()
    comm = WebsocketCommunicator(application, path)
    comm.scope["user"], comm.scope["session"] = user, session
    connected, code = await comm.connect()
    assert connected, (path, code)
    return comm


async def _drain(comm: WebsocketCommunicator) -> None:
    """Whatever a socket sends on connect (the current state, the log tail, the shell prompt)."""
    while not await comm.receive_nothing(timeout=1):
        await comm.receive_output()


async def _until(comm: WebsocketCommunicator, found, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    seen = b""
    while time.monotonic() < deadline:
        out = await comm.receive_output(timeout=deadline - time.monotonic())
        assert out["type"] == "websocket.send", f"the socket closed: {out}"
        seen += out.get("bytes") or out.get("text", "").encode()
        if found(seen):
            return
    raise AssertionError(f"nothing matching arrived; got {seen[-300:]!r}")


def test_every_kind_of_socket_survives_a_minute_without_events(app, admin_user, docker_engine):
    web = docker_engine.list({L.APP: app.name, L.SERVICE: "web"})[0]

    def log_a_line():
        docker_engine.exec(web.id, ["sh", "-c", "echo m6 > /proc/1/fd/1"], tty=False).read_all()

    sockets = {
        "dashboard": ("/ws/system/?format=json", lambda: apublish(SYSTEM_GROUP, STATS_EVENT, {"marker": "m1"})),
        "app list": ("/ws/apps/?format=json", lambda: apublish(APPS_GROUP, STATE_EVENT, {"id": app.pk, "m": "m2"})),
        "install progress": (
            f"/ws/apps/{app.pk}/?format=json",
            lambda: apublish(f"app.{app.pk}", STATE_EVENT, {"id": app.pk, "m": "m3"}),
        ),
        "stores": ("/ws/appstore/stores/?format=json", lambda: apublish(STORES_GROUP, STORE_EVENT, {"m": "m4"})),
        "files": ("/ws/files/?format=json", lambda: apublish(user_group(admin_user.pk), CHANGED_EVENT, {"m": "m5"})),
        "live log": (
            f"/ws/apps/{app.pk}/logs/?service=web&tail=0",
            lambda: asyncio.to_thread(log_a_line),
        ),
    }
    markers = {"dashboard": b"m1", "app list": b"m2", "install progress": b"m3", "stores": b"m4", "files": b"m5"}
    markers["live log"] = b"m6"

    async def scenario():
        opened = {kind: await _open(path, admin_user) for kind, (path, _) in sockets.items()}
        opened["terminal"] = await _open(f"/ws/apps/{app.pk}/terminal/web/", admin_user)
        # The tiles and card sockets render fragments of the real app: any state event re-renders them.
        opened["tiles"] = await _open("/ws/apps/live/", admin_user)
        for comm in opened.values():
            await _drain(comm)
        await asyncio.sleep(IDLE_SECONDS)
        for kind, (_, trigger) in sockets.items():
            await trigger()
            await _until(opened[kind], lambda seen, m=markers[kind]: m in seen)
        await opened["terminal"].send_to(bytes_data=b"echo idle-$((6*7))\n")
        await _until(opened["terminal"], lambda seen: b"idle-42" in seen)
        await database_sync_to_async(app.__class__.objects.filter(pk=app.pk).update)(detail="after a minute")
        await apublish(APPS_GROUP, STATE_EVENT, {"id": app.pk})
        await _until(opened["tiles"], lambda seen: b"tile-" in seen)
        for comm in opened.values():
            await comm.disconnect()

    asyncio.run(scenario())
