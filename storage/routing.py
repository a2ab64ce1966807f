from django.urls import path

from .consumers import SystemConsumer

websocket_urlpatterns = [path("ws/system/", SystemConsumer.as_asgi())]

# Disk jobs, inventory and health events for the storage page (issue 15): admins only.
from .consumers_disks import StorageConsumer  # noqa: E402

websocket_urlpatterns += [path("ws/storage/", StorageConsumer.as_asgi())]
