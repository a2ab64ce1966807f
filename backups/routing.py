from django.urls import path

from .consumers import BackupsConsumer, BoxRestoreConsumer

websocket_urlpatterns = [
    path("ws/backups/", BackupsConsumer.as_asgi()),
    path("ws/setup/restore/<str:watch>/", BoxRestoreConsumer.as_asgi()),
]
