"""The apps pages under /apps/: the apps page (tiles), installing, one app's page and controls, logs, terminal,
settings, updates, and containers we did not create."""

from django.urls import path

from apps.views import control, foreign, install, logs, settings, terminal, tiles, updates

urlpatterns = [
    path("list/", install.index, name="apps-list"),  # the installs list; the apps page (tiles) is "apps"
    path("install/", install.install, name="app-install"),
    path("<int:pk>/", install.detail, name="app-detail"),
    path("<int:pk>/state/", install.state, name="app-state"),
    path("<int:pk>/cancel/", install.cancel, name="app-cancel"),
    path("<int:pk>/retry/", install.retry, name="app-retry"),
    path("<int:pk>/uninstall/", install.uninstall, name="app-uninstall"),
    path("", tiles.home, name="apps"),
    path("tiles/order/", tiles.tiles_order, name="apps-tiles-order"),
    path("update-all/", updates.update_all, name="apps-update-all"),
    path("custom/", install.custom, name="apps-custom"),
    path("containers/", foreign.containers, name="apps-containers"),
    path("containers/<str:cid>/adopt/", foreign.adopt, name="apps-container-adopt"),
    path("containers/<str:cid>/<str:action>/", foreign.control, name="apps-container-control"),
    path("<int:pk>/manage/", control.manage, name="app-manage"),
    path("<int:pk>/manage/card/", control.manage_card, name="app-manage-card"),
    path("<int:pk>/stats/", control.stats, name="app-stats"),
    path("<int:pk>/open/", tiles.app_open, name="app-open"),
    path("<int:pk>/open/state/", tiles.app_open_state, name="app-open-state"),
    path("<int:pk>/tile/", tiles.tile_visibility, name="app-tile"),
    path("<int:pk>/control/<str:action>/", control.control, name="app-control"),
    path("<int:pk>/logs/", logs.logs, name="app-logs"),
    path("<int:pk>/logs/download/", logs.logs_download, name="app-logs-download"),
    path("<int:pk>/terminal/", terminal.terminal, name="app-terminal"),
    path("<int:pk>/settings/", settings.settings_page, name="app-settings"),
    path("<int:pk>/update/", updates.update, name="app-update"),
    path("<int:pk>/update/check/", updates.update_check, name="app-update-check"),
    path("<int:pk>/hold/", updates.hold, name="app-hold"),
    path("<int:pk>/export/", settings.export, name="app-export"),
    path("<int:pk>/remove/", control.remove, name="app-remove"),
    path("<int:pk>/grants/", settings.grants, name="app-grants"),
]
