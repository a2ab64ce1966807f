import contextlib
import threading

from django.core.management.base import BaseCommand

from storage.hotplug import hotplug_listen


class Command(BaseCommand):
    """Run the storage hotplug listener on its own (when the worker runs without its companions)."""

    help = "Hear block-device uevents (or poll the disks) and act on disks plugged in or pulled out."

    def handle(self, *args, **options):
        with contextlib.suppress(KeyboardInterrupt):
            hotplug_listen(stop=threading.Event())
