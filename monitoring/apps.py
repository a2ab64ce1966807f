from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Metrics history (ring files beside the database), its charts, and the Prometheus endpoint."""

    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from . import counters

        counters.counters_connect()
