from django.urls import path

from . import views

urlpatterns = [
    path("network/vpn/", views.vpn_page, name="vpn"),
    path("network/vpn/state/", views.vpn_state, name="vpn-state"),
    path("network/vpn/settings/", views.vpn_settings, name="vpn-settings"),
    path("network/vpn/peers/", views.vpn_peer_add, name="vpn-peer-add"),
    path("network/vpn/peers/<int:pk>/revoke/", views.vpn_peer_revoke_view, name="vpn-peer-revoke"),
]
