"""Websocket that pushes the live system figures to the dashboard."""

import json
from urllib.parse import parse_qs

from django.template.loader import render_to_string

from accounts.consumers import SessionBoundConsumer
from accounts.permissions import scope_user_allowed

from .services import STATS_EVENT, SYSTEM_GROUP


class SystemConsumer(SessionBoundConsumer):
    """Sends each sample as an HTML fragment for htmx, or as JSON when connected with ?format=json."""

    async def connect(self):
        if not scope_user_allowed(self.scope):
            await self.close(code=4401)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode())
        self.as_json = query.get("format") == ["json"]
        await self.channel_layer.group_add(SYSTEM_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(SYSTEM_GROUP, self.channel_name)

    async def casaos_event(self, message):
        # Permission is re-checked per event: a user disabled mid-session stops receiving.
        if not scope_user_allowed(self.scope) or message["event"] != STATS_EVENT:
            return
        if self.as_json:
            await self.send(text_data=json.dumps({"event": message["event"], "data": message["data"]}))
        else:
            await self.send(text_data=render_to_string("storage/partials/_stats.html", {"stats": message["data"]}))
