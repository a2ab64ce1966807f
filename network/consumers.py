"""Websocket of the Network page: interface changes as they go, for admins only."""

import json

from channels.db import database_sync_to_async
from django.conf import settings

from accounts.consumers import SessionBoundConsumer
from accounts.permissions import scope_user_allowed, user_is_admin
from casaos_site.i18n import shown_in

FORBIDDEN_CODE = 4403  # a signed-in member (4401 stays "no session")
CHANGE_EVENT = "network.change"  # network.services' (not imported: the socket process has no use for the rest)
SHOWN_KEYS = ("status_label", "step", "error")  # network.selectors.SHOWN_KEYS: a change's stored messages


def _admin_allowed(scope) -> bool:
    return scope_user_allowed(scope) and user_is_admin(scope.get("user"))


class NetworkConsumer(SessionBoundConsumer):
    """Forwards the network group's events as JSON: {"event": "network.change", "data": {...}}."""

    async def connect(self):
        if not await database_sync_to_async(_admin_allowed)(self.scope):
            signed_in = await database_sync_to_async(scope_user_allowed)(self.scope)
            await self.close(code=FORBIDDEN_CODE if signed_in else 4401)
            return
        await self.channel_layer.group_add(settings.NETWORK_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(settings.NETWORK_GROUP, self.channel_name)

    async def casaos_event(self, message):
        # Re-checked per event: an admin demoted or disabled mid-session stops receiving.
        if not await database_sync_to_async(_admin_allowed)(self.scope):
            return
        # A change's step and error are stored message ids: said in this socket's user's language.
        data = message["data"]
        if message["event"] == CHANGE_EVENT and isinstance(data, dict):
            data = shown_in(data, *SHOWN_KEYS)
        await self.send(text_data=json.dumps({"event": message["event"], "data": data}))
