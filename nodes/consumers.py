"""Websocket of the Nodes page: the init's progress and node changes, for admins only."""

import json

from channels.db import database_sync_to_async
from django.conf import settings

from accounts.consumers import SessionBoundConsumer
from accounts.permissions import scope_user_allowed, user_is_admin
from casaos_site.i18n import shown_in

FORBIDDEN_CODE = 4403  # a signed-in member (4401 stays "no session")


def _admin_allowed(scope) -> bool:
    return scope_user_allowed(scope) and user_is_admin(scope.get("user"))


class NodesConsumer(SessionBoundConsumer):
    """Forwards the nodes group's events as JSON: {"event": "nodes.init" | "nodes.changed", "data": {...}}."""

    async def connect(self):
        if not await database_sync_to_async(_admin_allowed)(self.scope):
            signed_in = await database_sync_to_async(scope_user_allowed)(self.scope)
            await self.close(code=FORBIDDEN_CODE if signed_in else 4401)
            return
        await self.channel_layer.group_add(settings.NODES_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(settings.NODES_GROUP, self.channel_name)

    async def casaos_event(self, message):
        # Re-checked per event: an admin demoted or disabled mid-session stops receiving.
        if not await database_sync_to_async(_admin_allowed)(self.scope):
            return
        data = message["data"] if isinstance(message["data"], dict) else {}
        # An init's error is a stored message id (or the engine's words): said in this socket's user's language.
        await self.send(text_data=json.dumps({"event": message["event"], "data": shown_in(data, "error")}))
