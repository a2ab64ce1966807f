from django.urls import path

from apps.consumers.install import AppConsumer, AppListConsumer
from apps.consumers.live import AppLiveConsumer
from apps.consumers.logs import AppLogsConsumer
from apps.consumers.terminal import AppTerminalConsumer

websocket_urlpatterns = [
    path("ws/apps/", AppListConsumer.as_asgi()),
    path("ws/apps/<int:pk>/", AppConsumer.as_asgi()),
    # installed apps (issue 6)
    path("ws/apps/live/", AppLiveConsumer.as_asgi()),
    path("ws/apps/<int:pk>/live/", AppLiveConsumer.as_asgi()),
    path("ws/apps/<int:pk>/logs/", AppLogsConsumer.as_asgi()),
    path("ws/apps/<int:pk>/terminal/<str:service>/", AppTerminalConsumer.as_asgi()),
]
