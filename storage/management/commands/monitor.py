import contextlib

from django.core.management.base import BaseCommand

from storage.services import system_monitor_run


class Command(BaseCommand):
    """Run the system-figures sampler (one per installation; the Procfile starts it)."""

    help = "Publish CPU, memory, disk and network figures to the dashboard every CASAOS_STATS_INTERVAL seconds."

    def add_arguments(self, parser):
        parser.add_argument("--iterations", type=int, default=None, help="stop after this many samples")

    def handle(self, *args, iterations=None, **options):
        with contextlib.suppress(KeyboardInterrupt):
            system_monitor_run(iterations=iterations)
