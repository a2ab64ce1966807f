"""Websockets of the Backups page (runs' progress and results, for admins only) and of the setup page's restore."""

import json

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.template.loader import render_to_string

from accounts.consumers import SessionBoundConsumer
from accounts.permissions import scope_user_allowed, user_is_admin

from .services.box import GROUP as BOX_GROUP
from .services.box import box_restore_context, box_restore_watched

GROUP = "backups"  # services.runs.GROUP (not imported: the socket process needs none of the rest)
FORBIDDEN_CODE = 4403


def _admin_allowed(scope) -> bool:
    return scope_user_allowed(scope) and user_is_admin(scope.get("user"))


class BackupsConsumer(SessionBoundConsumer):
    """Forwards every event of the backups group as JSON: {"event": ..., "data": ...}."""

    async def connect(self):
        if not await database_sync_to_async(_admin_allowed)(self.scope):
            signed_in = await database_sync_to_async(scope_user_allowed)(self.scope)
            await self.close(code=FORBIDDEN_CODE if signed_in else 4401)
            return
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def casaos_event(self, message):
        # Re-checked per event: an admin demoted or disabled mid-session stops receiving.
        if await database_sync_to_async(_admin_allowed)(self.scope):
            await self.send(text_data=json.dumps({"event": message["event"], "data": message["data"]}))


class BoxRestoreConsumer(SessionBoundConsumer):
    """The setup page's restore, live: its status drawn as HTML on connect and at every change, for the holder of
    its watch key only. Nobody can log in yet and the database is replaced half-way, so the key is the check, not a
    user; a visitor's session (rarely one before setup) still ends the socket with it, as everywhere."""

    async def connect(self):
        self.watch = self.scope["url_route"]["kwargs"]["watch"]
        status = await sync_to_async(box_restore_watched)(self.watch)
        if status is None:
            await self.close(code=FORBIDDEN_CODE)
            return
        await self.channel_layer.group_add(BOX_GROUP, self.channel_name)
        await self.accept()
        await self.send(text_data=_box_html(self.watch, status))

    async def disconnect(self, code):
        await self.channel_layer.group_discard(BOX_GROUP, self.channel_name)

    async def casaos_event(self, message):
        status = await sync_to_async(box_restore_watched)(self.watch)
        if status is not None:
            await self.send(text_data=_box_html(self.watch, status))


def _box_html(watch: str, status: dict) -> str:
    # In the visitor's language: SessionBoundConsumer.dispatch sets it around every handler.
    return render_to_string("backups/partials/_box_restore.html", box_restore_context(watch, status, oob=True))
