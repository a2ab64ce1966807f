from django.urls import path

from . import urls_manage, views

urlpatterns = [
    path("list/", views.index, name="apps-list"),  # the installs list; the apps page (tiles) is "apps"
    path("install/", views.install, name="app-install"),
    path("<int:pk>/", views.detail, name="app-detail"),
    path("<int:pk>/state/", views.state, name="app-state"),
    path("<int:pk>/cancel/", views.cancel, name="app-cancel"),
    path("<int:pk>/retry/", views.retry, name="app-retry"),
    path("<int:pk>/uninstall/", views.uninstall, name="app-uninstall"),
]
urlpatterns += urls_manage.urlpatterns  # installed apps: tiles, control, logs, settings, updates (issue 6)
