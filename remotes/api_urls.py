from django.urls import path

from . import api

urlpatterns = [
    path("remotes/", api.RemoteListView.as_view(), name="api-remotes"),
    path("remotes/<int:pk>/", api.RemoteDetailView.as_view(), name="api-remote"),
    path("remotes/<int:pk>/mount/", api.RemoteMountView.as_view(), name="api-remote-mount"),
    path("remotes/<int:pk>/unmount/", api.RemoteUnmountView.as_view(), name="api-remote-unmount"),
    path("remotes/<int:pk>/authorize/", api.RemoteAuthorizeView.as_view(), name="api-remote-authorize"),
    path(
        "remotes/<int:pk>/authorize/finish/",
        api.RemoteAuthorizeFinishView.as_view(),
        name="api-remote-authorize-finish",
    ),
    path("remotes/sync/", api.SyncJobListView.as_view(), name="api-remotes-sync"),
    path("remotes/sync/<int:pk>/", api.SyncJobDetailView.as_view(), name="api-remotes-sync-job"),
    path("remotes/sync/<int:pk>/run/", api.SyncJobRunView.as_view(), name="api-remotes-sync-run"),
]
