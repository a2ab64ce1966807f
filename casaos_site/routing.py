"""Websocket routes of every Django app."""

from accounts.routing import websocket_urlpatterns as accounts_ws
from apps.routing import websocket_urlpatterns as apps_ws
from appstore.routing import websocket_urlpatterns as appstore_ws
from files.routing import websocket_urlpatterns as files_ws
from storage.routing import websocket_urlpatterns as storage_ws

websocket_urlpatterns = [*storage_ws, *accounts_ws, *apps_ws, *appstore_ws, *files_ws]
