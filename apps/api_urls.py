from django.urls import path

from .api import AppCancelView, AppDetailView, AppListView

urlpatterns = [
    path("apps/", AppListView.as_view(), name="api-apps"),
    path("apps/<int:pk>/", AppDetailView.as_view(), name="api-app-detail"),
    path("apps/<int:pk>/cancel/", AppCancelView.as_view(), name="api-app-cancel"),
]
