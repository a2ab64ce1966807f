from django.urls import path

from . import api

urlpatterns = [
    path("system/settings/", api.SystemSettingsView.as_view(), name="api-system-settings"),
    path("system/restart/", api.PowerView.as_view(power="restart"), name="api-system-restart"),
    path("system/shutdown/", api.PowerView.as_view(power="shutdown"), name="api-system-shutdown"),
    path("system/logs/", api.LogsView.as_view(), name="api-system-logs"),
]
