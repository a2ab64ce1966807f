from django.urls import path

from .api import SystemStatusView

urlpatterns = [path("system/status/", SystemStatusView.as_view(), name="api-system-status")]

# Disks, mounts and pools (issue 15): storage/api_disks.py
from . import api_disks as d  # noqa: E402

urlpatterns += [
    path("storage/disks/", d.DiskListView.as_view(), name="api-storage-disks"),
    path("storage/disks/<str:disk_id>/", d.DiskDetailView.as_view(), name="api-storage-disk"),
    path("storage/disks/<str:disk_id>/smart/", d.DiskSmartView.as_view(), name="api-storage-disk-smart"),
    path("storage/disks/<str:disk_id>/format/", d.DiskFormatView.as_view(), name="api-storage-disk-format"),
    path("storage/disks/<str:disk_id>/eject/", d.DiskEjectView.as_view(), name="api-storage-disk-eject"),
    path("storage/mounts/", d.MountListView.as_view(), name="api-storage-mounts"),
    path("storage/mounts/<int:pk>/unmount/", d.MountUnmountView.as_view(), name="api-storage-mount-unmount"),
    path("storage/pools/", d.PoolListView.as_view(), name="api-storage-pools"),
    path("storage/pools/<int:pk>/", d.PoolDetailView.as_view(), name="api-storage-pool"),
    path("storage/settings/", d.StorageSettingsView.as_view(), name="api-storage-settings"),
]
