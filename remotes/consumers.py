"""Websocket for the Remotes page: mount states and sync progress, for admins only (JSON events)."""

import json

from channels.db import database_sync_to_async
from django.conf import settings

from accounts.consumers import SessionBoundConsumer
from accounts.permissions import scope_user_allowed
from storage.consumers_disks import FORBIDDEN_CODE, _admin_allowed


class RemotesConsumer(SessionBoundConsumer):
    """Forwards every event of the remotes group as {"event": ..., "data": ...}."""

    async def connect(self):
        if not await database_sync_to_async(_admin_allowed)(self.scope):
            signed_in = await database_sync_to_async(scope_user_allowed)(self.scope)
            await self.close(code=FORBIDDEN_CODE if signed_in else 4401)
            return
        await self.channel_layer.group_add(settings.REMOTES_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(settings.REMOTES_GROUP, self.channel_name)

    async def casaos_event(self, message):
        # Re-checked per event: an admin demoted or disabled mid-session stops receiving.
        if await database_sync_to_async(_admin_allowed)(self.scope):
            await self.send(text_data=json.dumps({"event": message["event"], "data": message["data"]}))
