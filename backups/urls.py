from django.urls import path

from . import setup_views, views

urlpatterns = [
    path("backups/", views.backups_index, name="backups"),
    path("backups/runs/", views.backups_runs, name="backups-runs"),
    path("backups/repositories/", views.backups_repository_create, name="backups-repository-create"),
    path(
        "backups/repositories/<int:pk>/for-updates/",
        views.backups_repository_for_updates,
        name="backups-repository-for-updates",
    ),
    path("backups/repositories/<int:pk>/recovery/", views.backups_recovery, name="backups-recovery"),
    path("backups/jobs/", views.backups_job_create, name="backups-job-create"),
    path("backups/jobs/<int:pk>/run/", views.backups_job_run, name="backups-job-run"),
    path("backups/jobs/<int:pk>/delete/", views.backups_job_delete, name="backups-job-delete"),
    path("backups/snapshots/<int:pk>/", views.backups_snapshot, name="backups-snapshot"),
    path("backups/snapshots/<int:pk>/restore/", views.backups_snapshot_restore, name="backups-snapshot-restore"),
    # The setup page's "Restore from backup" (before any admin exists; the setup token is the proof).
    path("setup/restore/", setup_views.setup_restore, name="setup-restore"),
    path("setup/restore/<str:watch>/", setup_views.setup_restore_progress, name="setup-restore-progress"),
    path("setup/restore/<str:watch>/status/", setup_views.setup_restore_status, name="setup-restore-status"),
]
