"""A shell inside one container of an app, in the browser: admins only, with a fresh step-up.

The socket carries raw terminal bytes both ways; a text frame {"resize": [rows, cols]} resizes the tty.
Closing the page closes the socket, which closes the exec stream: the shell gets SIGHUP and ends.
"""

import asyncio
import json
import threading
import time

from channels.db import database_sync_to_async

from accounts.consumers import SessionBoundConsumer
from accounts.permissions import STEPUP_SECONDS, STEPUP_SESSION_KEY, scope_user_allowed, user_is_admin
from accounts.services import audit_record
from apps.selectors import app_container_of, app_get_for
from apps.services.common import engine_for
from runtime.errors import EngineError

SHELL = ["sh", "-c", "command -v bash >/dev/null 2>&1 && exec bash || exec sh"]


class AppTerminalConsumer(SessionBoundConsumer):
    """One exec session per socket."""

    session = None

    async def connect(self):
        user = self.scope.get("user")
        if not scope_user_allowed(self.scope) or not user_is_admin(user):
            await self.close(code=4403)
            return
        if not await database_sync_to_async(_stepped_up)(self.scope.get("session")):
            await self.close(code=4412)  # the page sends the user to the step-up form first
            return
        service = self.scope["url_route"]["kwargs"]["service"]
        try:
            self.session = await database_sync_to_async(_open)(user, self.scope["url_route"]["kwargs"]["pk"], service)
        except Exception:
            await self.close(code=4404)
            return
        await self.accept()
        loop = asyncio.get_running_loop()
        threading.Thread(target=self._pump, args=(loop,), daemon=True, name="terminal").start()

    async def disconnect(self, code):
        if self.session is not None:
            self.session.close()

    async def receive(self, text_data=None, bytes_data=None):
        if not scope_user_allowed(self.scope) or self.session is None:
            await self.close(code=4401)
            return
        if bytes_data:
            await asyncio.to_thread(self.session.send, bytes_data)
        elif text_data:
            try:
                message = json.loads(text_data) if text_data.startswith("{") else {"input": text_data}
                if "resize" in message:
                    rows, cols = (max(1, min(int(v), 500)) for v in message["resize"][:2])
                    await asyncio.to_thread(self.session.resize, rows, cols)
                    return
            except (ValueError, TypeError, EngineError):
                return  # a garbled control frame is ignored, the shell goes on
            if "input" in message:
                await asyncio.to_thread(self.session.send, str(message["input"]).encode())

    def _pump(self, loop) -> None:
        """Engine output to the browser until the shell exits or the socket closes."""
        try:
            while chunk := self.session.recv(4096):
                # Waits as long as the loop needs (a busy server is slow, not broken): giving up here would leave an
                # open socket that never shows output again.
                _on_loop(self.send(bytes_data=chunk), loop).result()
            _on_loop(self.close(code=1000), loop)  # the shell exited: end the page's session
        except (EngineError, OSError, TimeoutError, RuntimeError):
            pass  # the socket (or the server's loop) went away first


def _on_loop(coroutine, loop):
    """Run `coroutine` on the consumer's loop from the pump thread; if that loop is already closed, the coroutine
    is closed too (it will never run, and must not be reported as never awaited)."""
    try:
        return asyncio.run_coroutine_threadsafe(coroutine, loop)
    except RuntimeError:
        coroutine.close()
        raise


def _stepped_up(session) -> bool:
    stamp = session.get(STEPUP_SESSION_KEY) if session is not None else None
    return bool(stamp) and time.time() - float(stamp) < STEPUP_SECONDS


def _open(user, pk: int, service: str):
    inst = app_get_for(user=user, pk=pk)
    eng = engine_for(inst)
    container = app_container_of(inst=inst, service=service, eng=eng)
    session = eng.exec(container, SHELL, tty=True)
    audit_record(actor=user, action="app.terminal", target=inst.name, details={"service": service})
    return session
