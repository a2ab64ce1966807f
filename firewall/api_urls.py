from django.urls import path

from . import api

urlpatterns = [
    path("firewall/", api.FirewallView.as_view(), name="api-firewall"),
]
