"""tus PATCH bodies reach the upload view as the server hands them over, instead of being copied into a
temporary file first (Django's ASGIHandler spools every request body before any view runs); a download of a
plain file range leaves through sendfile(2) where the server offers it (the ASGI "http.response.zerocopysend"
extension, casaos_site/webserver.py), instead of being read into Python block by block.

Only the delivery of the bytes changes: the request still goes through every middleware, the DRF authentication,
permission and throttle checks and the same view, which reads `request` and answers as before. Other requests
are untouched.
"""

import asyncio
import contextvars

from django.core.handlers.asgi import ASGIHandler

from casaos_site.body_sendfile import ZEROCOPY
from casaos_site.body_splice import SPLICE, SPLICED, STREAM

from .tus import OFFSET_CONTENT_TYPE

# Response bodies go out in messages of up to this size: Django's default (64 KiB) slices, and so copies, every
# block our downloads read (4 MiB, files/downloads.py) into 64 pieces.
RESPONSE_CHUNK = 4 * 1024 * 1024


def streams_body(scope) -> bool:
    """A tus PATCH (the only requests whose body is file content appended as it comes)."""
    if scope.get("method") != "PATCH":
        return False
    content_type = dict(scope.get("headers") or ()).get(b"content-type", b"")
    return content_type.split(b";")[0].strip().lower() == OFFSET_CONTENT_TYPE.encode()


class StreamedBody:
    """A read-only file over one request's `http.request` messages, read from the view's worker thread.

    With `send` (the server offers the "casaos.body.splice" extension, casaos_site/webserver.py), splice_into()
    has the server write the rest of the body into a file without it passing through Python.
    """

    def __init__(self, receive, loop: asyncio.AbstractEventLoop, send=None):
        self._receive, self._loop, self._send = receive, loop, send
        self._asked = send is None  # the server holds the body until asked for it (see casaos_site/body_splice)
        self._body, self._pos = b"", 0
        self.more = True  # the server still holds body messages
        self.disconnected = False
        self.finished = asyncio.Event()  # every body message has been taken (set on the event loop)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(RESPONSE_CHUNK), b""))
        while self._pos >= len(self._body) and self.more:
            self._next()
        whole = self._pos == 0 and size >= len(self._body)  # the common case: a message handed on without a copy
        chunk = self._body if whole else self._body[self._pos : self._pos + size]
        self._pos += len(chunk)
        return chunk

    def splice_into(self, fd: int, offset: int, *, write_behind: bool = False) -> int | None:
        """Have the server write the rest of the body into `fd` at `offset` (the caller has checked its declared
        length); returns the bytes written, or None if this server cannot (then read() as usual). A failed write
        raises its OSError here, after the server has stopped writing."""
        if self._send is None or self._pos < len(self._body) or not self.more:
            return None
        request = {"type": SPLICE, "fd": fd, "offset": offset, "write_behind": write_behind}
        self._asked = True
        self._run(self._send(request))
        while (message := self._run(self._receive()))["type"] != SPLICED:
            self._take(message)  # only a disconnect can come first; the server still answers the splice
        if message["error"] is not None:
            raise message["error"]
        return message["count"]

    def _run(self, coroutine):
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            coroutine.close()
            raise RuntimeError("a streamed request body is read from a worker thread, never the event loop")
        # On the loop in an empty context, not a copy of this (the view's) thread's: what the server does for the
        # message (reading the socket again) would hand that context to the connection's next request, with the
        # view's asgiref executor in it, gone by then, and that request would answer 500 before reaching a view.
        return contextvars.Context().run(asyncio.run_coroutine_threadsafe, coroutine, self._loop).result()

    def _next(self) -> None:
        if not self._asked:
            self._asked = True
            self._run(self._send({"type": STREAM}))
        self._take(self._run(self._receive()))

    def _take(self, message: dict) -> None:
        if message["type"] == "http.disconnect":
            self.disconnected, self.more = True, False  # what arrived is kept: tus resumes from the offset
        else:
            self._body, self._pos = message.get("body", b""), 0
            self.more = message.get("more_body", False)
        if not self.more:
            self._loop.call_soon_threadsafe(self.finished.set)

    def close(self) -> None:
        """Nothing to free: unread messages stay with the server, which drops them with the request."""


class BodyChannel:
    """What Django's handler gets as `receive` for a streamed request: the body for the view, then the rest.

    Django listens for a disconnect while the view runs; body messages must reach the view, not that listener,
    so it waits until the view has taken them all (it is cancelled when the response is done anyway).
    """

    def __init__(self, receive, loop: asyncio.AbstractEventLoop, send=None):
        self.receive = receive
        self.body = StreamedBody(receive, loop, send)

    async def __call__(self):
        await self.body.finished.wait()
        if self.body.disconnected:
            return {"type": "http.disconnect"}
        return await self.receive()


class ZeroCopySend:
    """The server's `send` for a request whose server offers sendfile (the handler is shared by every request, so
    this is where one request's choice is kept)."""

    def __init__(self, send):
        self.send = send

    async def __call__(self, message):
        return await self.send(message)


class StreamingASGIHandler(ASGIHandler):
    """Django's ASGI handler, streaming tus PATCH bodies to the view and sending large response messages."""

    chunk_size = RESPONSE_CHUNK

    async def handle(self, scope, receive, send):
        if streams_body(scope):
            splices = SPLICE in (scope.get("extensions") or {})
            receive = BodyChannel(receive, asyncio.get_running_loop(), send if splices else None)
        if ZEROCOPY in (scope.get("extensions") or {}):
            send = ZeroCopySend(send)
        await super().handle(scope, receive, send)

    async def send_response(self, response, send):
        body = _file_body(response) if isinstance(send, ZeroCopySend) else None
        if body is None:
            await super().send_response(response, send)
            return
        await send({"type": "http.response.start", "status": response.status_code, "headers": _headers(response)})
        file = {"file": body, "offset": body.start, "count": body.length}
        await send({"type": ZEROCOPY, **file, "more_body": False})

    def create_request(self, scope, body_file):
        request, error_response = super().create_request(scope, body_file)
        if request is not None and isinstance(body_file, StreamedBody):
            request.streamed_body = body_file  # what the upload view hands to the service (splice_into)
        return request, error_response

    async def read_body(self, receive):
        if isinstance(receive, BodyChannel):
            return receive.body
        return await super().read_body(receive)


def _file_body(response):
    """The FileBody (files/downloads.py) a response streams, untouched by any middleware, or None."""
    body = getattr(response, "file_body", None)
    if body is None or not response.streaming or not response.has_header("Content-Length"):
        return None
    return body if body.is_content_of(response) else None


def _headers(response) -> list[tuple[bytes, bytes]]:
    """The response's headers and cookies as ASGI wants them (what Django's send_response does)."""
    headers = [(str(k).encode("ascii"), str(v).encode("latin1")) for k, v in response.items()]
    cookies = [(b"Set-Cookie", c.output(header="").encode("ascii").strip()) for c in response.cookies.values()]
    return headers + cookies
