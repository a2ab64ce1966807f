from django.urls import path

from . import views

app_name = "nodes"

urlpatterns = [
    path("", views.nodes_index, name="index"),
    path("panel/", views.nodes_panel, name="panel"),
    path("init/", views.init_view, name="init"),
    path("join-token/rotate/", views.rotate_view, name="rotate"),
    path("node/<str:node_id>/availability/", views.availability_view, name="availability"),
    path("node/<str:node_id>/labels/", views.labels_view, name="labels"),
    path("node/<str:node_id>/remove/", views.remove_view, name="remove"),
]
