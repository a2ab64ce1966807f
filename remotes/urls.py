from django.urls import path

from . import views

urlpatterns = [
    path("remotes/", views.remotes_index, name="remotes"),
    path("remotes/add/", views.remotes_add, name="remotes-add"),
    path("remotes/<int:pk>/mount/", views.remote_mount, name="remotes-mount"),
    path("remotes/<int:pk>/unmount/", views.remote_unmount, name="remotes-unmount"),
    path("remotes/<int:pk>/delete/", views.remote_delete, name="remotes-delete"),
    path("remotes/<int:pk>/authorize/", views.remote_authorize, name="remotes-authorize"),
    path("remotes/<int:pk>/authorize/finish/", views.remote_authorize_finish, name="remotes-authorize-finish"),
    path("remotes/sync/", views.sync_add, name="remotes-sync-add"),
    path("remotes/sync/<int:pk>/run/", views.sync_run, name="remotes-sync-run"),
    path("remotes/sync/<int:pk>/delete/", views.sync_delete, name="remotes-sync-delete"),
]
