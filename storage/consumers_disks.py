"""Websocket for the storage page: disk jobs, inventory changes and health events, for admins only."""

import json

from channels.db import database_sync_to_async
from django.conf import settings

from accounts.consumers import SessionBoundConsumer
from accounts.permissions import scope_user_allowed, user_is_admin
from casaos_site.i18n import shown_in

# 4403: a signed-in member, who may not see disks (4401 stays "no session").
FORBIDDEN_CODE = 4403
JOB_EVENT = "storage.job"  # storage.formatting's (not imported: the socket process has no use for the rest)


def _admin_allowed(scope) -> bool:
    return scope_user_allowed(scope) and user_is_admin(scope.get("user"))


class StorageConsumer(SessionBoundConsumer):
    """Forwards every event of the storage group as JSON: {"event": ..., "data": ...}."""

    async def connect(self):
        if not await database_sync_to_async(_admin_allowed)(self.scope):
            signed_in = await database_sync_to_async(scope_user_allowed)(self.scope)
            await self.close(code=FORBIDDEN_CODE if signed_in else 4401)
            return
        await self.channel_layer.group_add(settings.STORAGE_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(settings.STORAGE_GROUP, self.channel_name)

    async def casaos_event(self, message):
        # Re-checked per event: an admin demoted or disabled mid-session stops receiving.
        if not await database_sync_to_async(_admin_allowed)(self.scope):
            return
        # A job's step and error are stored message ids: said in this socket's user's language.
        data = shown_in(message["data"], "step", "error") if message["event"] == JOB_EVENT else message["data"]
        await self.send(text_data=json.dumps({"event": message["event"], "data": data}))
