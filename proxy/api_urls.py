from django.urls import path

from . import api

urlpatterns = [
    path("proxy/", api.ProxySettingsView.as_view(), name="api-proxy"),
    path("apps/<int:pk>/address/", api.AppAddressView.as_view(), name="api-app-address"),
]
