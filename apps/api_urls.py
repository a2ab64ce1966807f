"""The apps API under /api/apps/: installing, one app's state and controls, logs, settings, updates, and containers
we did not create."""

from django.urls import path

from apps.api import control, foreign, install, logs, settings, updates

urlpatterns = [
    path("apps/", install.AppListView.as_view(), name="api-apps"),
    path("apps/<int:pk>/", install.AppDetailView.as_view(), name="api-app-detail"),
    path("apps/<int:pk>/cancel/", install.AppCancelView.as_view(), name="api-app-cancel"),
    path("apps/<int:pk>/retry/", install.AppRetryView.as_view(), name="api-app-retry"),
    path("apps/update-all/", updates.AppUpdateAllView.as_view(), name="api-apps-update-all"),
    path("apps/custom/", install.CustomAppView.as_view(), name="api-apps-custom"),
    path("apps/containers/", foreign.ForeignListView.as_view(), name="api-apps-containers"),
    path(
        "apps/containers/<str:cid>/<str:action>/", foreign.ForeignActionView.as_view(), name="api-apps-container-action"
    ),
    path("apps/<int:pk>/info/", control.AppInfoView.as_view(), name="api-app-info"),
    path("apps/<int:pk>/stats/", control.AppStatsView.as_view(), name="api-app-stats"),
    path("apps/<int:pk>/logs/", logs.AppLogsView.as_view(), name="api-app-logs"),
    path("apps/<int:pk>/settings/", settings.AppSettingsView.as_view(), name="api-app-settings"),
    path("apps/<int:pk>/update/", updates.AppUpdateView.as_view(), name="api-app-update"),
    path("apps/<int:pk>/update/check/", updates.AppUpdateCheckView.as_view(), name="api-app-update-check"),
    path("apps/<int:pk>/hold/", updates.AppHoldView.as_view(), name="api-app-hold"),
    path("apps/<int:pk>/export/", settings.AppExportView.as_view(), name="api-app-export"),
    path("apps/<int:pk>/uninstall/", control.AppUninstallView.as_view(), name="api-app-uninstall"),
    path("apps/<int:pk>/history/", control.AppHistoryView.as_view(), name="api-app-history"),
    path("apps/<int:pk>/grants/", settings.AppGrantsView.as_view(), name="api-app-grants"),
    path("apps/<int:pk>/<str:action>/", control.AppControlView.as_view(), name="api-app-control"),
]
