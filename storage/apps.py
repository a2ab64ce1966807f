from django.apps import AppConfig


class StorageConfig(AppConfig):
    """Disks, mounts and system status."""

    name = "storage"
