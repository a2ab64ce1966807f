"""The engine-events listener (its own process in the Procfile): keeps each app's status true, on this box and,
when it manages one, on the swarm."""

import signal
import threading

from django.core.management.base import BaseCommand

from apps.services.status import app_events_listen_all


class Command(BaseCommand):
    help = "Follow the container engine's events and keep every app's status (and open pages) up to date."

    def handle(self, *args, **options):
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write("listening to engine events for apps")
        app_events_listen_all(stop=stop)
