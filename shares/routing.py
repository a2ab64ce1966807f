from django.urls import path

from .consumers import SharesConsumer

websocket_urlpatterns = [path("ws/shares/", SharesConsumer.as_asgi())]
