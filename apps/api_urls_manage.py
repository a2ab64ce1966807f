"""API routes for installed apps (issue 6), included by apps/api_urls.py."""

from django.urls import path

from . import api_manage as a

urlpatterns = [
    path("apps/update-all/", a.AppUpdateAllView.as_view(), name="api-apps-update-all"),
    path("apps/custom/", a.CustomAppView.as_view(), name="api-apps-custom"),
    path("apps/containers/", a.ForeignListView.as_view(), name="api-apps-containers"),
    path("apps/containers/<str:cid>/<str:action>/", a.ForeignActionView.as_view(), name="api-apps-container-action"),
    path("apps/<int:pk>/info/", a.AppInfoView.as_view(), name="api-app-info"),
    path("apps/<int:pk>/stats/", a.AppStatsView.as_view(), name="api-app-stats"),
    path("apps/<int:pk>/logs/", a.AppLogsView.as_view(), name="api-app-logs"),
    path("apps/<int:pk>/settings/", a.AppSettingsView.as_view(), name="api-app-settings"),
    path("apps/<int:pk>/update/", a.AppUpdateView.as_view(), name="api-app-update"),
    path("apps/<int:pk>/update/check/", a.AppUpdateCheckView.as_view(), name="api-app-update-check"),
    path("apps/<int:pk>/hold/", a.AppHoldView.as_view(), name="api-app-hold"),
    path("apps/<int:pk>/export/", a.AppExportView.as_view(), name="api-app-export"),
    path("apps/<int:pk>/uninstall/", a.AppUninstallView.as_view(), name="api-app-uninstall"),
    path("apps/<int:pk>/history/", a.AppHistoryView.as_view(), name="api-app-history"),
    path("apps/<int:pk>/grants/", a.AppGrantsView.as_view(), name="api-app-grants"),
    path("apps/<int:pk>/<str:action>/", a.AppControlView.as_view(), name="api-app-control"),
]
