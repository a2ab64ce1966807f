"""ASGI entry point: Django for HTTP, Channels for websockets (authenticated by the session)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casaos_site.settings")
django.setup(set_prefix=False)  # what django.core.asgi.get_asgi_application() does before making its handler

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from files.streaming import StreamingASGIHandler  # noqa: E402

from .routing import websocket_urlpatterns  # noqa: E402
from .websocket import SameOriginValidator  # noqa: E402

# Django's own handler, except that tus upload bodies stream to the view and large responses go out in large
# messages (files/streaming.py); every request still passes the same middleware, authentication and views.
django_asgi_app = StreamingASGIHandler()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
