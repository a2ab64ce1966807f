from django.urls import path

from . import api

urlpatterns = [
    path("me/", api.MeView.as_view(), name="api-me"),
    path("tokens/", api.TokenListView.as_view(), name="api-token-list"),
    path("tokens/<int:pk>/", api.TokenDetailView.as_view(), name="api-token-detail"),
    path("sessions/", api.SessionListView.as_view(), name="api-session-list"),
    path("sessions/<int:pk>/", api.SessionDetailView.as_view(), name="api-session-detail"),
    path("users/", api.UserListView.as_view(), name="api-user-list"),
    path("users/<int:pk>/", api.UserDetailView.as_view(), name="api-user-detail"),
    path("users/<int:pk>/unlock/", api.UserUnlockView.as_view(), name="api-user-unlock"),
    path("audit/", api.AuditListView.as_view(), name="api-audit-list"),
]
