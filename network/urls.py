from django.urls import path

from . import views

urlpatterns = [
    path("network/", views.network_page, name="network"),
    path("network/change/", views.change_fragment, name="network-change"),
    path("network/hostname/", views.hostname_set, name="network-hostname"),
    path("network/interfaces/<str:name>/", views.interface_change, name="network-interface"),
    path("network/confirm/<int:pk>/", views.change_confirm, name="network-confirm"),
]
