from daphne.cli import CommandLineInterface
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services.setup import setup_token_announce


class Command(BaseCommand):
    """Serve HTTP and websockets with daphne on CASAOS_BIND."""

    help = "Run the ASGI web server (daphne) on CASAOS_BIND (default 127.0.0.1:8000)."

    def handle(self, *args, **options):
        host, sep, port = settings.BIND.rpartition(":")
        if not sep or not port.isdigit():
            raise CommandError(f"CASAOS_BIND={settings.BIND!r} must look like HOST:PORT")
        host = host.strip("[]") or "127.0.0.1"
        self.stdout.write(f"CasaOS web admin on http://{settings.BIND}/")
        setup_token_announce(self.stdout.write)  # first run only: the token the setup page asks for
        # No --proxy-headers: forwarded addresses are trusted only from CASAOS_TRUSTED_PROXIES, by our own code.
        CommandLineInterface().run(["-b", host, "-p", port, "--access-log", "-", "casaos_site.asgi:application"])
