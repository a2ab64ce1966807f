from django.urls import path

from .consumers import NetworkConsumer

websocket_urlpatterns = [path("ws/network/", NetworkConsumer.as_asgi())]
