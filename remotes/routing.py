from django.urls import path

from .consumers import RemotesConsumer

websocket_urlpatterns = [path("ws/remotes/", RemotesConsumer.as_asgi())]
