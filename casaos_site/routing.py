"""Websocket routes of every Django app."""

from storage.routing import websocket_urlpatterns as storage_ws

websocket_urlpatterns = [*storage_ws]
