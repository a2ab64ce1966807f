from django.urls import path

from .views import PrometheusView

urlpatterns = [path("metrics", PrometheusView.as_view(), name="prometheus-metrics")]
