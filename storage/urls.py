from django.urls import path

from . import views

urlpatterns = [
    path("system/stats/", views.stats_fragment, name="system-stats"),
    path("storage/", views.storage_index, name="storage"),
    path("storage/cards/", views.storage_cards, name="storage-cards"),
    path("storage/mount/", views.storage_mount, name="storage-mount"),
    path("storage/mounts/<int:pk>/unmount/", views.storage_unmount, name="storage-unmount"),
    path("storage/disks/<str:disk_id>/eject/", views.storage_eject, name="storage-eject"),
    path("storage/disks/<str:disk_id>/format/", views.storage_format, name="storage-format"),
    path("storage/pools/", views.storage_pool_create, name="storage-pool-create"),
    path("storage/pools/<int:pk>/", views.storage_pool_change, name="storage-pool-change"),
    path("storage/pools/<int:pk>/delete/", views.storage_pool_delete, name="storage-pool-delete"),
]
