from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """The notification centre: one notify() service, built-in alert rules, and the channels that deliver them."""

    name = "notifications"

    def ready(self) -> None:
        from celery.signals import worker_ready, worker_shutdown

        from . import hooks  # noqa: F401  (connects the event listeners and the signals)

        worker_ready.connect(_worker_started, weak=False, dispatch_uid="notifications.boot")
        worker_shutdown.connect(_worker_stopped, weak=False, dispatch_uid="notifications.boot")


def _worker_started(**kwargs) -> None:
    from .boot import boot_start
    from .hooks import quiet

    quiet(boot_start)()


def _worker_stopped(**kwargs) -> None:
    from .boot import boot_stop

    boot_stop()
