from django.urls import path

from . import api

urlpatterns = [
    path("backups/repositories/", api.RepositoryListView.as_view(), name="api-backups-repositories"),
    path("backups/repositories/<int:pk>/", api.RepositoryDetailView.as_view(), name="api-backups-repository"),
    path("backups/jobs/", api.JobListView.as_view(), name="api-backups-jobs"),
    path("backups/jobs/<int:pk>/", api.JobDetailView.as_view(), name="api-backups-job"),
    path("backups/jobs/<int:pk>/run/", api.JobRunView.as_view(), name="api-backups-job-run"),
    path("backups/runs/", api.RunListView.as_view(), name="api-backups-runs"),
    path("backups/snapshots/", api.SnapshotListView.as_view(), name="api-backups-snapshots"),
    path("backups/snapshots/<int:pk>/", api.SnapshotDetailView.as_view(), name="api-backups-snapshot"),
    path("backups/snapshots/<int:pk>/restore/", api.SnapshotRestoreView.as_view(), name="api-backups-snapshot-restore"),
]
