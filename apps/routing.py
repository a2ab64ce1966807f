from django.urls import path

from .consumers import AppConsumer, AppListConsumer

websocket_urlpatterns = [
    path("ws/apps/", AppListConsumer.as_asgi()),
    path("ws/apps/<int:pk>/", AppConsumer.as_asgi()),
]
