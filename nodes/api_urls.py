from django.urls import path

from . import api

urlpatterns = [
    path("nodes/", api.NodesView.as_view(), name="api-nodes"),
    path("nodes/init/", api.InitView.as_view(), name="api-nodes-init"),
    path("nodes/join-token/", api.JoinTokenView.as_view(), name="api-nodes-join-token"),
    path("nodes/join-token/rotate/", api.JoinTokenRotateView.as_view(), name="api-nodes-join-token-rotate"),
    path("nodes/<str:node_id>/", api.NodeView.as_view(), name="api-node"),
]
