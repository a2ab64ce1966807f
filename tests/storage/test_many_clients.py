"""Many dashboard sockets at once: every handshake succeeds (a burst waits for pooled Redis connections instead of
failing with 500), one sample reaches them all, and its HTML is rendered once, not once per socket.

Serial: 300 handshakes at once load Redis and the CPU for seconds, and the burst's own waits are what is measured.
Once, among the parallel part of a CI run, the burst hung past pytest-timeout and the next test's handshake took
over 10 s; the scenario now prints its pending tasks before that could happen again."""

import asyncio
from unittest import mock

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts.consumers import BUSY_CODE
from casaos_site.asgi import application
from storage import consumers
from storage.services import system_stats_publish
from storage.system import Sampler
from tests.sockets import report_stuck_tasks_after
from tests.storage.test_consumers import _session_headers

pytestmark = [pytest.mark.redis, pytest.mark.serial, pytest.mark.django_db(transaction=True)]
CLIENTS = 300  # past redis-py's default asyncio pool size (100), where half of 200 handshakes used to fail


def test_a_burst_of_dashboard_sockets_all_connect_and_share_one_rendering(redis_client, member_user):
    headers = [*_session_headers(member_user), (b"origin", b"http://testserver")]

    async def scenario():
        watchdog = report_stuck_tasks_after(150)  # connect 60 + publish + receive 30 + disconnect
        sockets = [WebsocketCommunicator(application, "/ws/system/", headers=headers) for _ in range(CLIENTS)]
        answers = await asyncio.gather(*(s.connect(timeout=60) for s in sockets), return_exceptions=True)
        try:
            refused = [a for a in answers if not (isinstance(a, tuple) and a[0])]
            assert refused == [], f"{len(refused)} of {CLIENTS} refused: {refused[:3]}"
            await sync_to_async(system_stats_publish)(sampler=Sampler())
            return await asyncio.gather(*(s.receive_from(timeout=30) for s in sockets))
        finally:
            await asyncio.gather(*(s.disconnect() for s in sockets), return_exceptions=True)
            watchdog.cancel()

    consumers._fragment.cache_clear()
    with mock.patch.object(consumers, "render_to_string", wraps=consumers.render_to_string) as render:
        frames = async_to_sync(scenario)()
    assert len(set(frames)) == 1 and 'id="system-stats"' in frames[0]
    assert render.call_count == 1


def test_a_channel_layer_failure_closes_the_socket_with_try_again_later(redis_client, member_user):
    headers = [*_session_headers(member_user), (b"origin", b"http://testserver")]

    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/system/", headers=headers)
        connected, _ = await socket.connect(timeout=10)
        closing = await socket.receive_output(timeout=10)
        await socket.wait()
        return connected, closing

    failing = mock.AsyncMock(side_effect=RedisConnectionError("No connection available."))
    with mock.patch("channels_redis.core.RedisChannelLayer.group_add", failing):
        connected, closing = async_to_sync(scenario)()
    assert connected and closing == {"type": "websocket.close", "code": BUSY_CODE}
