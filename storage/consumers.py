"""Websocket that pushes the live system figures to the dashboard."""

import json
from functools import lru_cache
from urllib.parse import parse_qs

from django.template.loader import render_to_string
from django.utils.translation import get_language

from accounts.consumers import SessionBoundConsumer
from accounts.permissions import scope_user_allowed
from monitoring.history import METRICS_EVENT

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
        if not scope_user_allowed(self.scope) or message["event"] not in (STATS_EVENT, METRICS_EVENT):
            return
        as_json = json.dumps({"event": message["event"], "data": message["data"]}, sort_keys=True)
        # The history charts take their 10 s points as JSON on either kind of socket (htmx leaves JSON unswapped).
        if self.as_json or message["event"] == METRICS_EVENT:
            await self.send(text_data=as_json)
        else:
            await self.send(text_data=_fragment(as_json, get_language()))


@lru_cache(maxsize=8)
def _fragment(sample: str, language: str | None) -> str:
    """The dashboard's HTML for one sample, rendered once for every socket in this process, not once per socket."""
    return render_to_string("storage/partials/_stats.html", {"stats": json.loads(sample)["data"]})
