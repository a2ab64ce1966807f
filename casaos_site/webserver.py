"""The web server: daphne's, tuned for large bodies (file uploads and downloads) and bounded.

daphne receives a whole request body before the application starts, staging it in a temporary file on the
system disk; without a bound, any client (no login needed) could fill that disk with one request. `manage.py
serve` runs this server for `make run`, the live test stack and the benchmarks.
"""

import asyncio
import json

from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server
from django.conf import settings

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
    """daphne's server with bounded request bodies, larger socket steps and back-pressure on streamed responses."""

    # Server.run() builds its HTTP factory and listens with it in one method; this is where ours replaces it.
    @property
    def http_factory(self):
        return self._casa_http_factory

    @http_factory.setter
    def http_factory(self, factory):
        self._casa_http_factory = BoundedHTTPFactory(self) if type(factory) is HTTPFactory else factory

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


class BoundedRequest(WebRequest):
    """A request whose body may not exceed settings.MAX_REQUEST_BYTES: a larger declared length is refused with
    413 before a byte of the body is read, and a chunked body is refused as soon as it grows past the bound."""

    casa_refused = False
    casa_received = 0

    def gotLength(self, length):
        if length is not None and length > settings.MAX_REQUEST_BYTES:
            self.casa_refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data):
        if self.casa_refused:
            return
        self.casa_received += len(data)
        if self.casa_received > settings.MAX_REQUEST_BYTES:
            self.casa_refuse()
            return
        super().handleContentChunk(data)

    def process(self):
        if self.casa_refused:
            return None  # answered already; the application never sees this request
        return super().process()

    def casa_refuse(self):
        self.casa_refused = True
        staged = getattr(self, "content", None)
        if staged is not None:
            staged.close()  # what was staged so far goes now, not when the connection ends
        self.content = _Discard()
        # Twisted answers "Expect: 100-continue" right after gotLength; a refused client must not be told to send.
        self.requestHeaders.removeHeader(b"expect")
        body = json.dumps({"detail": f"Request body too large (at most {settings.MAX_REQUEST_BYTES} bytes)."})
        head = (
            "HTTP/1.1 413 Content Too Large\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        transport = self.channel.transport
        transport.write(head.encode() + body.encode())
        transport.loseConnection()  # stops reading: the rest of the body is never received


class _Discard:
    """Stands in for the staged body of a refused request (Twisted still writes to and reads from it)."""

    def write(self, data):
        return len(data)

    def seek(self, *args):
        return 0

    def read(self, *args):
        return b""

    def close(self):
        pass


class BoundedHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = BoundedRequest
        return protocol
