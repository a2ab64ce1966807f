"""Websocket pushing one user's file events: task progress and folder changes."""

import json
from urllib.parse import parse_qs

from django.template.loader import render_to_string

from accounts.consumers import SessionBoundConsumer
from accounts.permissions import scope_user_allowed
from casaos_site.i18n import shown_in

from .services.common import user_group

TASK_EVENT = "files.task"
CHANGED_EVENT = "files.changed"


class FilesConsumer(SessionBoundConsumer):
    """Progress fragments (hx-swap-oob by task id) for htmx, or JSON with ?format=json."""

    async def connect(self):
        if not scope_user_allowed(self.scope):
            await self.close(code=4401)
            return
        self.group = user_group(self.scope["user"].pk)
        self.as_json = parse_qs(self.scope.get("query_string", b"").decode()).get("format") == ["json"]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def casaos_event(self, message):
        # Re-checked per event: a user disabled mid-session stops receiving.
        if not scope_user_allowed(self.scope) or message["event"] not in (TASK_EVENT, CHANGED_EVENT):
            return
        if self.as_json:
            # A task's error is a stored message id: said in this socket's user's language (SessionBoundConsumer).
            data = shown_in(message["data"], "error") if message["event"] == TASK_EVENT else message["data"]
            await self.send(text_data=json.dumps({"event": message["event"], "data": data}))
        elif message["event"] == TASK_EVENT:
            await self.send(
                text_data=render_to_string("files/partials/_task.html", {"task": message["data"], "oob": True})
            )
        else:
            await self.send(text_data=render_to_string("files/partials/_changed.html", message["data"]))
