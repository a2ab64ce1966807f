"""Routes of the installed-apps pages (issue 6), included by apps/urls.py."""

from django.urls import path

from . import views_foreign as f
from . import views_manage as v

urlpatterns = [
    path("", v.home, name="apps"),
    path("tiles/order/", v.tiles_order, name="apps-tiles-order"),
    path("update-all/", v.update_all, name="apps-update-all"),
    path("custom/", v.custom, name="apps-custom"),
    path("containers/", f.containers, name="apps-containers"),
    path("containers/<str:cid>/adopt/", f.adopt, name="apps-container-adopt"),
    path("containers/<str:cid>/<str:action>/", f.control, name="apps-container-control"),
    path("<int:pk>/manage/", v.manage, name="app-manage"),
    path("<int:pk>/manage/card/", v.manage_card, name="app-manage-card"),
    path("<int:pk>/stats/", v.stats, name="app-stats"),
    path("<int:pk>/open/", v.app_open, name="app-open"),
    path("<int:pk>/open/state/", v.app_open_state, name="app-open-state"),
    path("<int:pk>/tile/", v.tile_visibility, name="app-tile"),
    path("<int:pk>/control/<str:action>/", v.control, name="app-control"),
    path("<int:pk>/logs/", v.logs, name="app-logs"),
    path("<int:pk>/logs/download/", v.logs_download, name="app-logs-download"),
    path("<int:pk>/terminal/", v.terminal, name="app-terminal"),
    path("<int:pk>/settings/", v.settings_page, name="app-settings"),
    path("<int:pk>/update/", v.update, name="app-update"),
    path("<int:pk>/update/check/", v.update_check, name="app-update-check"),
    path("<int:pk>/hold/", v.hold, name="app-hold"),
    path("<int:pk>/export/", v.export, name="app-export"),
    path("<int:pk>/remove/", v.remove, name="app-remove"),
    path("<int:pk>/grants/", v.grants, name="app-grants"),
]
