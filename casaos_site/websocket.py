"""Websocket guard: a browser may only open our sockets from our own pages (SECURITY.md lesson 10)."""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class SameOriginValidator:
    """Refuse a websocket whose Origin names another site than the Host it connected to.

    Clients that send no Origin (scripts, API tools) are not browsers and cannot ride a victim's cookies.
    """

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        origin = _header(scope, b"origin")
        host = _header(scope, b"host")
        if origin is not None and (origin == "null" or urlsplit(origin).netloc.lower() != (host or "").lower()):
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
