"""Websocket routes of every Django app."""

from accounts.routing import websocket_urlpatterns as accounts_ws
from apps.routing import websocket_urlpatterns as apps_ws
from appstore.routing import websocket_urlpatterns as appstore_ws
from backups.routing import websocket_urlpatterns as backups_ws
from files.routing import websocket_urlpatterns as files_ws
from network.routing import websocket_urlpatterns as network_ws
from nodes.routing import websocket_urlpatterns as nodes_ws
from notifications.routing import websocket_urlpatterns as notifications_ws
from remotes.routing import websocket_urlpatterns as remotes_ws
from shares.routing import websocket_urlpatterns as shares_ws
from storage.routing import websocket_urlpatterns as storage_ws

websocket_urlpatterns = [*storage_ws, *accounts_ws, *apps_ws, *appstore_ws, *files_ws, *notifications_ws, *network_ws]
websocket_urlpatterns += [*backups_ws, *remotes_ws, *shares_ws, *nodes_ws]
