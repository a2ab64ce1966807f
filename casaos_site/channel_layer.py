"""The channel layer: channels-redis with a connection pool that waits for a free connection instead of failing,
over connections whose writes cannot lose a cancellation.

redis-py's asyncio pool raises MaxConnectionsError past its size (100), so a burst of 200 sockets connecting
together answered half their handshakes with 500. A blocking pool queues them for a moment instead.

redis-py bounds each write with `asyncio.wait_for(write, socket_timeout)`. On Python 3.11, wait_for drops a
cancellation that arrives in the loop turn the write completes (CPython gh-86296, fixed in 3.12): a consumer
cancelled then (a socket closing) kept its receive loop running, holding a pooled connection forever, and a test
loop closing waited for it. `asyncio.timeout` counts cancellations and keeps them.
"""

import asyncio

from channels_redis.core import RedisChannelLayer
from redis.asyncio import BlockingConnectionPool, Connection
from redis.exceptions import TimeoutError as RedisTimeoutError


class CancellableConnection(Connection):
    """A redis-py connection whose writes are bounded by asyncio.timeout rather than asyncio.wait_for."""

    async def send_packed_command(self, command, check_health: bool = True) -> None:
        limit, self.socket_timeout = self.socket_timeout, None  # the parent's wait_for is skipped when None
        try:
            async with asyncio.timeout(limit):
                await super().send_packed_command(command, check_health)
        except TimeoutError:
            raise RedisTimeoutError("Timeout writing to socket") from None
        finally:
            self.socket_timeout = limit


class PooledRedisChannelLayer(RedisChannelLayer):
    """RedisChannelLayer whose pools (one per event loop) wait up to `timeout` seconds for a connection."""

    def create_pool(self, index):
        host = dict(self.hosts[index])
        return BlockingConnectionPool.from_url(host.pop("address"), connection_class=CancellableConnection, **host)
