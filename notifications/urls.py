from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.index, name="notifications"),
    path("notifications/bell/", views.bell, name="notifications-bell"),
    path("notifications/read-all/", views.read_all, name="notifications-read-all"),
    path("notifications/<int:pk>/<str:action>/", views.act, name="notification-act"),
    path("settings/notifications/", views.settings_page, name="notification-settings"),
    path("settings/notifications/rules/", views.rules_save, name="notification-rules-save"),
    path("settings/notifications/smtp/", views.smtp_save, name="notification-smtp-save"),
    path("settings/notifications/smtp/test/", views.smtp_test, name="notification-smtp-test"),
    path("settings/notifications/add/<str:kind>/", views.channel_add, name="notification-channel-add"),
    path(
        "settings/notifications/<int:pk>/<str:action>/",
        views.channel_action,
        name="notification-channel-action",
    ),
]
