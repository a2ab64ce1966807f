from django.urls import path

from . import api

urlpatterns = [
    path("vpn/", api.VpnView.as_view(), name="api-vpn"),
    path("vpn/peers/", api.PeerListView.as_view(), name="api-vpn-peers"),
    path("vpn/peers/<int:pk>/", api.PeerView.as_view(), name="api-vpn-peer"),
]
