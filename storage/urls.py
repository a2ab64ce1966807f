from django.urls import path

from . import views

urlpatterns = [
    path("system/stats/", views.stats_fragment, name="system-stats"),
    path("storage/", views.storage_index, name="storage"),
]
