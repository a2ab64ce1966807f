"""The channel layer keeps every cancellation: a consumer cancelled mid-command ends, whatever loop turn it lands in.

On Python 3.11, redis-py's `asyncio.wait_for` around each write loses a cancellation that lands in the turn the
write completes; a consumer's receive loop then ran on after its socket closed, holding a pooled connection.
"""

import asyncio
import sys

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from redis.asyncio import Connection

from casaos_site.asgi import application
from casaos_site.channel_layer import CancellableConnection

pytestmark = [pytest.mark.redis]
TURNS = range(8)  # the write and its wait_for wrapper complete within the first few turns


async def _lost_cancellations(connection_class) -> list[int]:
    """The loop turns after which a cancelled `BZPOPMIN 1` did not end cancelled."""
    lost = []
    for turn in TURNS:
        conn = connection_class(**_address(), socket_timeout=5)
        await conn.connect()
        task = asyncio.create_task(_blocking_pop(conn))
        for _ in range(turn):
            await asyncio.sleep(0)
        if not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=3)
            if not task.cancelled():
                lost.append(turn)
        await conn.disconnect()
    return lost


async def _blocking_pop(conn):
    await conn.send_command("BZPOPMIN", "casaos:test:never", 1)
    return await conn.read_response()


def _address() -> dict:
    from redis.asyncio.connection import parse_url

    found = parse_url(settings.REDIS_URL)
    return {"host": found.get("host", "127.0.0.1"), "port": found.get("port", 6379), "db": found.get("db", 0)}


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="asyncio.wait_for keeps cancellations from Python 3.12 on")
def test_the_hazard_exists_with_redis_py_s_own_connection(redis_client):
    """Without this, the next test could pass for want of the hazard, not because we avoid it."""
    assert async_to_sync(_lost_cancellations)(Connection)


def test_our_connection_keeps_every_cancellation(redis_client):
    assert async_to_sync(_lost_cancellations)(CancellableConnection) == []


@pytest.mark.django_db(transaction=True)
def test_a_refused_socket_leaves_no_task_behind_its_loop(redis_client):
    """Refused sockets, one loop each, as in the suite: each loop's remaining tasks end once cancelled."""

    def one_loop() -> set:
        loop = asyncio.new_event_loop()
        try:
            communicator = WebsocketCommunicator(application, "/ws/apps/1/", headers=[(b"host", b"testserver")])
            connected, _ = loop.run_until_complete(communicator.connect(timeout=5))
            assert not connected
            rest = asyncio.all_tasks(loop)
            for task in rest:
                task.cancel()
            _, pending = loop.run_until_complete(asyncio.wait(rest, timeout=3)) if rest else (set(), set())
            return pending
        finally:
            loop.close()

    stuck = [pending for pending in (one_loop() for _ in range(60)) if pending]
    assert stuck == []
