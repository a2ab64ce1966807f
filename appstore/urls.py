from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="appstore"),
    path("apps/<int:pk>/", views.app_detail, name="appstore-app"),
    path("apps/<int:pk>/install/", views.app_install, name="appstore-install"),
    path("apps/<int:pk>/placeholder.svg", views.placeholder, name="appstore-placeholder"),
    path("assets/<str:name>", views.asset, name="appstore-asset"),
    path("retry/", views.catalog_retry, name="appstore-retry"),
    path("stores/", views.stores, name="appstore-stores"),
    path("stores/lan/", views.lan_setting, name="appstore-lan"),
    path("stores/<int:pk>/", views.store_detail, name="appstore-store"),
    path("stores/<int:pk>/row/", views.store_row, name="appstore-store-row"),
    path("stores/<int:pk>/<str:action>/", views.store_action, name="appstore-store-action"),
]
