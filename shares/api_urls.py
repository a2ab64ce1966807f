from django.urls import path

from . import api

urlpatterns = [
    path("shares/", api.ShareListView.as_view(), name="api-shares"),
    path("shares/apply/", api.ShareApplyView.as_view(), name="api-shares-apply"),
    path("shares/password/", api.SmbPasswordView.as_view(), name="api-shares-password"),
    path("shares/<int:pk>/", api.ShareDetailView.as_view(), name="api-share"),
]
