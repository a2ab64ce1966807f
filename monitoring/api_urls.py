from django.urls import path

from .api import MetricsHistoryView

urlpatterns = [path("system/metrics/", MetricsHistoryView.as_view(), name="api-system-metrics")]
