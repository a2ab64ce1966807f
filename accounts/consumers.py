"""The base class of every websocket consumer: a socket lives no longer than the login session it was opened with.

On accept the socket joins its session's Channels group; logout, "end this session", a password change
(other sessions), a disabled or deleted user and MFA removal publish SESSION_ENDED_EVENT there through
casaos_site/events.py (accounts/services/sessions.py), and the socket closes at once. Consumers keep their own
`connect`/`casaos_event`/`disconnect`: only the base class changes.
"""

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.sessions.backends.base import SessionBase
from django.utils import translation
from redis.exceptions import RedisError

from casaos_site.events import MESSAGE_TYPE

from .services.language import scope_language
from .services.sessions import SESSION_ENDED_EVENT, session_socket_group

# The close code a page's socket sees when its session is over (htmx's ws extension reconnects, and is refused).
SESSION_ENDED_CODE = 4401
# "Try again later": the channel layer could not take this socket now (Redis away, or no pooled connection freed
# in time). htmx's ws extension reconnects with backoff.
BUSY_CODE = 1013
log = logging.getLogger(__name__)


def _session_alive(session: SessionBase) -> bool:
    return session.exists(session.session_key)


class SessionBoundConsumer(AsyncWebsocketConsumer):
    """An AsyncWebsocketConsumer that closes when its session ends (join on accept, close on the event)."""

    session_group: str | None = None
    session_ended = False
    accepted = False

    async def websocket_connect(self, message):
        try:
            await super().websocket_connect(message)
        except RedisError as exc:
            log.warning("websocket %s refused for now: the channel layer failed (%s)", self.scope.get("path"), exc)
            if not self.accepted:
                await super().accept()  # so the client reads the close code, not a failed handshake
            await self.close(code=BUSY_CODE)

    async def accept(self, subprotocol=None, headers=None):
        session = self.scope.get("session")
        group = session_socket_group(session)
        if group:
            await self.channel_layer.group_add(group, self.channel_name)
            self.session_group = group
            # Joined first, checked second: a session ended while this socket was connecting is not missed.
            if not await database_sync_to_async(_session_alive)(session):
                await self._end_session()
                return
        await super().accept(subprotocol, headers)
        self.accepted = True

    async def dispatch(self, message):
        # Fragments a consumer renders speak its user's language (the pages' middleware does not run here).
        with translation.override(scope_language(self.scope)):
            await self._dispatch(message)

    async def _dispatch(self, message):
        # Ahead of the subclass's handlers: they never see this event, nor anything after it but the disconnect.
        if message.get("type") == MESSAGE_TYPE and message.get("event") == SESSION_ENDED_EVENT:
            await self._end_session()
        elif not self.session_ended or message.get("type") == "websocket.disconnect":
            await super().dispatch(message)

    async def websocket_disconnect(self, message):
        if self.session_group:
            await self.channel_layer.group_discard(self.session_group, self.channel_name)
        await super().websocket_disconnect(message)

    async def _end_session(self) -> None:
        if not self.session_ended:
            self.session_ended = True
            await self.close(code=SESSION_ENDED_CODE)
