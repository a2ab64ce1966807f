"""The channel layer: channels-redis with a connection pool that waits for a free connection instead of failing.

redis-py's asyncio pool raises MaxConnectionsError past its size (100), so a burst of 200 sockets connecting
together answered half their handshakes with 500. A blocking pool queues them for a moment instead.
"""

from channels_redis.core import RedisChannelLayer
from redis.asyncio import BlockingConnectionPool


class PooledRedisChannelLayer(RedisChannelLayer):
    """RedisChannelLayer whose pools (one per event loop) wait up to `timeout` seconds for a connection."""

    def create_pool(self, index):
        host = dict(self.hosts[index])
        return BlockingConnectionPool.from_url(host.pop("address"), **host)
