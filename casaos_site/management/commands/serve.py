"""`manage.py serve`: daphne on CASAOS_BIND, built here rather than through daphne's CLI so that it can be tuned
for large bodies (file uploads and downloads) in ways the CLI does not offer. `make run`, the live test stack and
the benchmarks all start the server through this command.
"""

import asyncio
import sys

from daphne.access import AccessLogGenerator
from daphne.endpoints import build_endpoint_description_strings
from daphne.http_protocol import WebRequest
from daphne.server import Server
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services.setup import setup_token_announce

# daphne receives a whole request body before the application starts, then hands it over in messages of this
# size (its default, 8 KiB, makes a 32 MiB upload chunk 4,096 trips through the event loop; 4 MiB was no faster
# here and left the process ~50 MiB larger).
REQUEST_BUFFER = 1024 * 1024
# Twisted reads at most 64 KiB per recv() and sends at most 128 KiB per send(); bigger steps on each connection
# cut the per-byte event-loop work (and bufferSize is also where a response's writer is paused, see Drain).
SOCKET_READ = 1024 * 1024
SOCKET_SEND = 1024 * 1024


class Drain:
    """A push producer on one response: Twisted pauses it while its send buffer is full and resumes it once the
    buffer is empty, so an application sending a large body waits for the client instead of piling the whole
    body up in memory (daphne itself applies no back-pressure)."""

    def __init__(self):
        self.ready = asyncio.Event()
        self.ready.set()

    def pauseProducing(self):  # Twisted names (IPushProducer)
        self.ready.clear()

    def resumeProducing(self):
        self.ready.set()

    def stopProducing(self):
        self.ready.set()


class CasaServer(Server):
    """daphne's server with larger socket steps and back-pressure on streamed response bodies."""

    def protocol_connected(self, protocol):
        super().protocol_connected(protocol)
        transport = getattr(getattr(protocol, "channel", None), "transport", None)
        if transport is not None and hasattr(transport, "SEND_LIMIT"):
            transport.bufferSize = SOCKET_READ
            transport.SEND_LIMIT = SOCKET_SEND

    def protocol_disconnected(self, protocol):
        super().protocol_disconnected(protocol)
        drain = getattr(protocol, "casa_drain", None)
        if drain is not None:
            drain.ready.set()  # a writer waiting for a client that went away must not wait forever

    async def handle_reply(self, protocol, message):
        if not isinstance(protocol, WebRequest) or message.get("type") != "http.response.body":
            return await super().handle_reply(protocol, message)
        drain = getattr(protocol, "casa_drain", None)
        more = message.get("more_body", False)
        if drain is not None and not more and protocol.producer is drain:
            protocol.unregisterProducer()  # Twisted wants it gone before the request finishes
        await super().handle_reply(protocol, message)
        if not more or protocol.finished or getattr(protocol, "channel", None) is None:
            return None
        if drain is None:
            drain = protocol.casa_drain = Drain()
            protocol.registerProducer(drain, True)
        await drain.ready.wait()
        return None


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
            raise CommandError(f"could not listen on {settings.BIND}")
