"""Websocket pushing live store state (sync progress, errors, counts) to the stores page, admins only."""

import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.template.loader import render_to_string

from accounts.consumers import SessionBoundConsumer
from accounts.permissions import scope_user_allowed, user_is_admin

from .selectors import store_states
from .services import STORE_EVENT, STORES_GROUP


def _admin(scope) -> bool:
    return scope_user_allowed(scope) and user_is_admin(scope.get("user"))


class StoresConsumer(SessionBoundConsumer):
    """The stores as they are on connect, then one HTML row per change for htmx (hx-swap-oob by id), or JSON with
    ?format=json."""

    async def connect(self):
        if not _admin(self.scope):
            await self.close(code=4403)
            return
        self.as_json = parse_qs(self.scope.get("query_string", b"").decode()).get("format") == ["json"]
        await self.channel_layer.group_add(STORES_GROUP, self.channel_name)
        await self.accept()
        if self.accepted:
            await self.send_current()

    async def send_current(self) -> None:
        """Read after joining the group: a change the page missed before is here, one after it arrives as an event."""
        states = await database_sync_to_async(store_states)()
        if self.as_json:
            for state in states:
                await self.send(text_data=json.dumps({"event": STORE_EVENT, "data": state}))
        else:
            await self.send(text_data=render_to_string("appstore/partials/_store_list_live.html", {"stores": states}))

    async def disconnect(self, code):
        await self.channel_layer.group_discard(STORES_GROUP, self.channel_name)

    async def casaos_event(self, message):
        # Re-checked per event: an admin demoted mid-session stops receiving.
        if not _admin(self.scope):
            return
        event, data = message["event"], message["data"]
        if self.as_json:
            await self.send(text_data=json.dumps({"event": event, "data": data}))
        elif event == STORE_EVENT:
            await self.send(text_data=render_to_string("appstore/partials/_store_row.html", {"s": data}))
        elif event == "store.removed":
            await self.send(text_data=f'<article id="store-{int(data["id"])}" hx-swap-oob="delete"></article>')
