from django.urls import path

from .consumers import FilesConsumer

websocket_urlpatterns = [path("ws/files/", FilesConsumer.as_asgi())]
