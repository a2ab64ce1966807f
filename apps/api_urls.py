from django.urls import path

from . import api_urls_manage
from .api import AppCancelView, AppDetailView, AppListView, AppRetryView

urlpatterns = [
    path("apps/", AppListView.as_view(), name="api-apps"),
    path("apps/<int:pk>/", AppDetailView.as_view(), name="api-app-detail"),
    path("apps/<int:pk>/cancel/", AppCancelView.as_view(), name="api-app-cancel"),
    path("apps/<int:pk>/retry/", AppRetryView.as_view(), name="api-app-retry"),
]
urlpatterns += api_urls_manage.urlpatterns  # installed apps: control, logs, settings, updates (issue 6)
