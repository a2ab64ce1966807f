from django.urls import path

from . import views

urlpatterns = [
    path("settings/system/", views.system_settings_page, name="settings-system"),
    path("settings/system/release/", views.system_release, name="settings-system-release"),
    path("settings/system/restart/", views.system_restart, name="settings-system-restart"),
    path("settings/system/shutdown/", views.system_shutdown, name="settings-system-shutdown"),
    path("settings/logs/", views.logs_page, name="settings-logs"),
    path("settings/logs/lines/", views.logs_lines, name="settings-logs-lines"),
]
