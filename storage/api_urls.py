from django.urls import path

from .api import SystemStatusView

urlpatterns = [path("system/status/", SystemStatusView.as_view(), name="api-system-status")]
