from django.apps import AppConfig


class BackupsConfig(AppConfig):
    """Backups and restore with restic: repositories, jobs, runs, snapshots (docs/backups.md)."""

    name = "backups"

    def ready(self) -> None:
        from apps.services.seed import seeder_register

        from .services.copy import SEED, CopySeeder

        seeder_register(SEED, CopySeeder())  # a copy restored from a snapshot is filled by its install
