"""Live log tail of one service of an app over a websocket (admins only; the page pauses and trims it)."""

import asyncio
import json
import threading
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings

from accounts.consumers import SessionBoundConsumer
from accounts.permissions import scope_user_allowed, user_is_admin
from apps.selectors import app_container_of, app_get_for
from apps.services.common import engine_for
from runtime.errors import EngineError

BATCH_SECONDS = 0.1  # lines are sent in small batches: one frame per line would flood a busy app's page


class AppLogsConsumer(SessionBoundConsumer):
    """Sends {"lines": [...]} frames: the last `tail` lines first, then new ones as the container writes them."""

    lines = None

    async def connect(self):
        self.stop = threading.Event()
        user = self.scope.get("user")
        if not scope_user_allowed(self.scope) or not user_is_admin(user):
            await self.close(code=4403)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode())
        service = (query.get("service") or [""])[0]
        tail = _int((query.get("tail") or ["200"])[0], 200)
        try:
            eng, container = await database_sync_to_async(_container)(
                user, self.scope["url_route"]["kwargs"]["pk"], service
            )
        except Exception:
            await self.close(code=4404)
            return
        await self.accept()
        self.queue: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        threading.Thread(
            target=self._follow, args=(loop, eng, container, tail), daemon=True, name=f"logs-{container[:12]}"
        ).start()
        self.sender = asyncio.create_task(self._send_batches())

    async def disconnect(self, code):
        self.stop.set()
        if getattr(self, "lines", None) is not None:
            self.lines.close()  # ends the engine stream at once, even for a container that prints nothing
        if getattr(self, "sender", None):
            self.sender.cancel()

    async def receive(self, text_data=None, bytes_data=None):
        """The page talks only to pause and resume, which it does by itself; anything sent here is ignored."""

    def _follow(self, loop, eng, container: str, tail: int) -> None:
        """Blocking engine stream in a thread; disconnect() closes it, which ends the loop below."""
        try:
            self.lines = eng.logs(container, follow=True, tail=tail)
            for line in self.lines:
                if self.stop.is_set():
                    break
                loop.call_soon_threadsafe(self.queue.put_nowait, line)
            self.lines.close()
        except EngineError as exc:
            if not self.stop.is_set():
                loop.call_soon_threadsafe(self.queue.put_nowait, f"[{exc.message}]")
        except RuntimeError:
            return  # the server's loop closed first
        if not self.stop.is_set():
            loop.call_soon_threadsafe(self.queue.put_nowait, None)  # the container stopped: end of the stream

    async def _send_batches(self):
        while True:
            batch = [await self.queue.get()]
            await asyncio.sleep(BATCH_SECONDS)
            while not self.queue.empty():
                batch.append(self.queue.get_nowait())
            ended = None in batch
            if not scope_user_allowed(self.scope):
                await self.close(code=4401)
                return
            await self.send(
                text_data=json.dumps({"lines": [line for line in batch if line is not None], "ended": ended})
            )
            if ended:
                return


def _container(user, pk: int, service: str) -> tuple:
    """The app's engine (plain or swarm) and the container (or service) id of one of its services."""
    inst = app_get_for(user=user, pk=pk)
    eng = engine_for(inst)
    return eng, app_container_of(inst=inst, service=service, eng=eng)


def _int(value: str, default: int) -> int:
    try:
        return max(0, min(int(value), settings.APPS_LOG_TAIL_MAX))
    except ValueError:
        return default
