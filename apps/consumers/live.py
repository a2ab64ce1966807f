"""Live tiles and the live status card of an app's page: only for apps the user may see (checked per event)."""

import json

from channels.db import database_sync_to_async
from django.template.loader import render_to_string

from accounts.consumers import SessionBoundConsumer
from accounts.permissions import scope_user_allowed
from apps.models import Installation
from apps.selectors import app_card, app_containers, app_tiles, app_visible
from apps.services.common import APPS_GROUP, REMOVED_EVENT, STATE_EVENT, engine_for
from monitoring.history import METRICS_EVENT


class AppLiveConsumer(SessionBoundConsumer):
    """/ws/apps/live/ pushes the tiles when an app's status changes; /ws/apps/<pk>/live/ pushes that app's card
    and its containers' states.

    Fragments carry their element id and hx-swap-oob, so htmx replaces exactly that element. The tiles are
    re-rendered only when what they show changed, not on every byte of an install's progress.
    """

    group = ""
    seen: dict

    def _changed(self, key: tuple) -> bool:
        pk = key[0]
        if self.seen.get(pk) == key:
            return False
        self.seen[pk] = key
        return True

    async def connect(self):
        if not scope_user_allowed(self.scope):
            await self.close(code=4401)
            return
        self.pk = self.scope["url_route"]["kwargs"].get("pk")
        self.seen = {}
        if self.pk is not None and not await database_sync_to_async(self._visible)(self.pk):
            await self.close(code=4404)
            return
        self.group = f"app.{self.pk}" if self.pk is not None else APPS_GROUP
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def casaos_event(self, message):
        if not scope_user_allowed(self.scope):
            await self.close(code=4401)
            return
        if message["event"] == METRICS_EVENT:
            await self._send_point(message)
            return
        if message["event"] not in (STATE_EVENT, REMOVED_EVENT):
            return
        html = await database_sync_to_async(self._render)(message["event"], message["data"]["id"])
        if html:
            await self.send(text_data=html)

    async def _send_point(self, message) -> None:
        """An app's 10 s figures for its page's charts, as JSON (htmx leaves it unswapped), while still visible."""
        if self.pk is not None and await database_sync_to_async(self._visible)(self.pk):
            await self.send(text_data=json.dumps({"event": message["event"], "data": message["data"]}))

    def _visible(self, pk: int) -> bool:
        return app_visible(user=self.scope["user"]).filter(pk=pk).exists()

    def _render(self, event: str, pk: int) -> str:
        """Re-read the app (the event may be stale) and render its fragment, or nothing if it is not ours to see."""
        user = self.scope["user"]
        inst = Installation.objects.filter(pk=pk).first()
        if inst is not None and not app_visible(user=user).filter(pk=pk).exists():
            return ""
        if self.pk is not None:
            return self._render_card(inst) if inst is not None else ""
        card = app_card(inst) if inst is not None else {}
        key = (pk, card.get("status"), card.get("operation"), card.get("update_available"), card.get("detail"))
        if not self._changed(key):
            return ""
        return render_to_string("apps/partials/_tiles.html", {"tiles": app_tiles(user=user), "user": user, "oob": True})

    def _render_card(self, inst: Installation) -> str:
        """The card, and each container's state badge when the app's state moved (a container killed outside)."""
        user = self.scope["user"]
        card = app_card(inst)
        context = {"card": card, "is_admin": user.is_admin, "user": user, "oob": True}
        # The engine is asked only when the state moved, not on every byte of an update's download.
        if self._changed((inst.pk, card.get("status"), card.get("operation"), card.get("detail"))):
            context["containers"] = app_containers(inst=inst, eng=engine_for(inst))
        return render_to_string("apps/partials/_card_live.html", context)
