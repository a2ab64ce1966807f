from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("system/stats/", views.stats_fragment, name="system-stats"),
    path("storage/", views.storage_index, name="storage"),
]
