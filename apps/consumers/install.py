"""Websockets of the apps pages: one app's install progress, and the installed-apps list.

Both send HTML fragments for htmx, or the JSON events themselves when connected with ?format=json.
"""

import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.template.loader import render_to_string

from accounts.consumers import SessionBoundConsumer
from accounts.permissions import scope_user_allowed
from apps.selectors import app_state, app_state_shown, app_visible
from apps.services.common import APPS_GROUP, REMOVED_EVENT, STATE_EVENT


def _host(scope) -> str:
    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"").decode("latin-1")
    return host if host.endswith("]") else host.rsplit(":", 1)[0]


class _AppsSocket(SessionBoundConsumer):
    """Shared plumbing: the auth check on connect and per event, the JSON switch, one group."""

    group = ""

    async def accept_into(self, group: str) -> bool:
        if not scope_user_allowed(self.scope):
            await self.close(code=4401)
            return False
        query = parse_qs(self.scope.get("query_string", b"").decode())
        self.as_json = query.get("format") == ["json"]
        self.group = group
        await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        return True

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def casaos_event(self, message):
        # Re-checked per event: a user disabled (or logged out elsewhere) mid-session stops receiving.
        if not scope_user_allowed(self.scope):
            await self.close(code=4401)
            return
        if not self.is_admin and not await self.member_may_see(message["event"], message["data"].get("id")):
            return
        # A worker published the state: its stored messages and labels are said again in this socket's language.
        data = app_state_shown(message["data"]) if message["event"] == STATE_EVENT else message["data"]
        if self.as_json:
            await self.send(text_data=json.dumps({"event": message["event"], "data": data}))
        elif message["event"] in (STATE_EVENT, REMOVED_EVENT):
            await self.send_fragment(message["event"], data)

    @property
    def is_admin(self) -> bool:
        return bool(getattr(self.scope.get("user"), "is_admin", False))

    async def member_may_see(self, event: str, pk: int | None) -> bool:
        """Members get events only about apps granted to them, asked again per event (a grant can be revoked).

        The removal of the app this socket was opened for is always told: its grants went with it.
        """
        return event == REMOVED_EVENT or await database_sync_to_async(_visible)(pk, self.scope.get("user"))


class AppConsumer(_AppsSocket):
    """One app's state (status, steps, bytes per image) as it changes; the current state first."""

    async def connect(self):
        pk = int(self.scope["url_route"]["kwargs"]["pk"])
        state = await database_sync_to_async(_state_or_none)(pk, self.scope.get("user"))
        if state is None:
            await self.close(code=4404)
            return
        if await self.accept_into(f"app.{pk}"):
            await self.casaos_event({"event": STATE_EVENT, "data": state})  # whatever happened before we joined

    async def send_fragment(self, event: str, data: dict) -> None:
        app = {"id": data["id"], "title": "", "removed": True} if event == REMOVED_EVENT else data
        html = render_to_string(
            "apps/partials/_install.html", {"app": app, "is_admin": self.is_admin, "host": _host(self.scope)}
        )
        await self.send(text_data=html)


class AppListConsumer(_AppsSocket):
    """The installed-apps list as it is on connect, then re-rendered when an app's status changes (not on every
    byte of a pull)."""

    async def connect(self):
        self.seen: dict[int, str] = {}
        self.granted: set[int] = set()  # a member's apps, so their removal can still be told after the grant is gone
        if not self.is_admin:
            user = self.scope.get("user")
            self.granted = await database_sync_to_async(
                lambda: set(app_visible(user=user).values_list("pk", flat=True))
            )()
        if await self.accept_into(APPS_GROUP):
            await self.send_current()

    async def send_current(self) -> None:
        """Read after joining the group: a change made before is here, one after it arrives as an event."""
        apps = await self._apps()
        self.seen = {app["id"]: app["status"] for app in apps}
        if self.as_json:
            for app in apps:
                await self.send(text_data=json.dumps({"event": STATE_EVENT, "data": app_state_shown(app)}))
        else:
            await self._send_list(apps)

    async def member_may_see(self, event: str, pk: int | None) -> bool:
        """Every app's events reach this group: a member gets only those of the apps granted to them."""
        if event == REMOVED_EVENT:
            return pk in self.granted
        if await super().member_may_see(event, pk):
            self.granted.add(pk)
            return True
        self.granted.discard(pk)
        return False

    async def send_fragment(self, event: str, data: dict) -> None:
        status = "removed" if event == REMOVED_EVENT else data["status"]
        if self.seen.get(data["id"]) == status:
            return
        self.seen[data["id"]] = status
        await self._send_list(await self._apps())

    async def _apps(self) -> list[dict]:
        user = self.scope.get("user")
        return await database_sync_to_async(lambda: [app_state(i) for i in app_visible(user=user)])()

    async def _send_list(self, apps: list[dict]) -> None:
        html = render_to_string("apps/partials/_list.html", {"apps": apps, "host": _host(self.scope)})
        await self.send(text_data=html)


def _visible(pk: int, user) -> bool:
    return app_visible(user=user).filter(pk=pk).exists()


def _state_or_none(pk: int, user) -> dict | None:
    inst = app_visible(user=user).filter(pk=pk).first()  # members: granted apps only
    return app_state(inst) if inst else None
