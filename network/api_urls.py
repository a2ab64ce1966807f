from django.urls import path

from . import api

urlpatterns = [
    path("network/", api.NetworkView.as_view(), name="api-network"),
    path("network/hostname/", api.HostnameView.as_view(), name="api-network-hostname"),
    path("network/interfaces/<str:name>/", api.InterfaceView.as_view(), name="api-network-interface"),
    path("network/changes/<int:pk>/", api.ChangeView.as_view(), name="api-network-change"),
    path("network/changes/<int:pk>/confirm/", api.ChangeConfirmView.as_view(), name="api-network-change-confirm"),
]
