"""The bell's socket: each open page of a person hears when their list changed and gets the bell again."""

import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.template.loader import render_to_string

from accounts.consumers import SESSION_ENDED_CODE, SessionBoundConsumer
from accounts.permissions import scope_user_allowed

from .selectors import bell_context
from .services import CHANGED_EVENT, user_group


class NotificationConsumer(SessionBoundConsumer):
    """Sends the bell (count and latest list) as HTML for htmx, or {"unread": n} with ?format=json."""

    async def connect(self):
        if not scope_user_allowed(self.scope):
            await self.close(code=SESSION_ENDED_CODE)
            return
        self.as_json = parse_qs(self.scope.get("query_string", b"").decode()).get("format") == ["json"]
        self.group = user_group(self.scope["user"].pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def casaos_event(self, message):
        # Re-checked per event: a user disabled mid-session stops receiving.
        if message["event"] != CHANGED_EVENT or not scope_user_allowed(self.scope):
            return
        await self.send(text_data=await database_sync_to_async(self._render)())

    def _render(self) -> str:
        context = bell_context(user=self.scope["user"])
        if self.as_json:
            return json.dumps({"event": CHANGED_EVENT, "unread": context["unread"]})
        return render_to_string("notifications/partials/_bell_live.html", context)
