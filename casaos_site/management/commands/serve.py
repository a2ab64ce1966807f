"""`manage.py serve`: daphne on CASAOS_BIND, built here rather than through daphne's CLI so that it can be tuned
for large bodies (file uploads and downloads) and bound them (casaos_site/webserver.py) in ways the CLI does not
offer. `make run`, the live test stack and the benchmarks all start the server through this command.
"""

import sys

from daphne.access import AccessLogGenerator
from daphne.endpoints import build_endpoint_description_strings
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from accounts.services.setup import setup_token_announce
from casaos_site.webserver import REQUEST_BUFFER, CasaServer


class Command(BaseCommand):
    """Serve HTTP and websockets with daphne on CASAOS_BIND."""

    help = "Run the ASGI web server (daphne) on CASAOS_BIND (default 127.0.0.1:8000)."

    def handle(self, *args, **options):
        bind = _bind()
        host, sep, port = bind.rpartition(":")
        if not sep or not port.isdigit():
            raise CommandError(f"CASAOS_BIND={bind!r} must look like HOST:PORT")
        host = host.strip("[]") or "127.0.0.1"
        self.stdout.write(f"CasaOS web admin on http://{bind}/")
        setup_token_announce(self.stdout.write)  # first run only: the token the setup page asks for
        from casaos_site.asgi import application

        # No proxy headers: forwarded addresses are trusted only from CASAOS_TRUSTED_PROXIES, by our own code.
        server = CasaServer(
            application=application,
            endpoints=build_endpoint_description_strings(host=host, port=int(port)),
            request_buffer_size=REQUEST_BUFFER,
            action_logger=AccessLogGenerator(sys.stdout),
        )
        server.run()
        if server.abort_start:
            raise CommandError(f"could not listen on {bind}")


def _bind() -> str:
    """The admin's choice on Settings → System when it can be had, else CASAOS_BIND (system/services.py)."""
    from system.services import web_bind_for_start

    try:
        return web_bind_for_start()
    except DatabaseError:  # not migrated yet
        return settings.BIND
