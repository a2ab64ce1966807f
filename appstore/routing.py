from django.urls import path

from .consumers import StoresConsumer

websocket_urlpatterns = [path("ws/appstore/stores/", StoresConsumer.as_asgi())]
