"""The web server: daphne's, tuned for large bodies (file uploads and downloads), bounded and streaming.

daphne receives a whole request body before the application starts, staging it in a temporary file on the
system disk. Here tus PATCH bodies (file content) go to the application as they arrive instead, and every other
body is bounded: without a bound, any client (no login needed) could fill that disk with one request.
`manage.py serve` runs this server for `make run`, the live test stack and the benchmarks.
"""

import asyncio
import json
import logging
import os
import threading
import time
from urllib.parse import unquote

from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server
from daphne.utils import HEADER_NAME_RE, INVALID_HEADER_VALUE_BYTES
from django.conf import settings
from twisted.web import http
from twisted.web.http import _IdentityTransferDecoder

from .body_sendfile import ZEROCOPY, Sent, send_file
from .body_splice import SPLICE, SPLICED, STREAM, Spliced, splice_body

# daphne receives a whole request body before the application starts, then hands it over in messages of this
# size (its default, 8 KiB, makes a 32 MiB upload chunk 4,096 trips through the event loop; 4 MiB was no faster
# here and left the process ~50 MiB larger).
REQUEST_BUFFER = 1024 * 1024
# Twisted reads at most 64 KiB per recv() and sends at most 128 KiB per send(); bigger steps on each connection
# cut the per-byte event-loop work (and bufferSize is also where a response's writer is paused, see Drain).
SOCKET_READ = 1024 * 1024
SOCKET_SEND = 1024 * 1024
# Streamed bodies (tus PATCH, see BoundedRequest): the content type, how many received pieces (up to SOCKET_READ
# each) may wait for the application before the socket is no longer read, and how often to look again.
STREAMED_TYPE = b"application/offset+octet-stream"
STREAM_AHEAD = 8
STREAM_POLL = 0.002
logger = logging.getLogger(__name__)


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
    """daphne's server with bounded request bodies, larger socket steps, back-pressure on streamed responses and
    file ranges sent with sendfile(2) (the ASGI "http.response.zerocopysend" extension)."""

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

    def create_application(self, protocol, scope):
        if isinstance(protocol, BoundedRequest) and protocol.casa_can_sendfile():
            scope["extensions"] = {**scope.get("extensions", {}), ZEROCOPY: {}}
        return super().create_application(protocol, scope)

    async def handle_reply(self, protocol, message):
        if isinstance(protocol, BoundedRequest) and (protocol.casa_aborted or message.get("type") == ZEROCOPY):
            if not protocol.casa_aborted and not self.connections.get(protocol, {}).get("disconnected"):
                await protocol.casa_sendfile(message)
                if not message.get("more_body", False):
                    await super().handle_reply(protocol, {"type": "http.response.body"})
            return None  # after a failed sendfile the connection closes: the rest of the response goes nowhere
        if message.get("type") == SPLICE and isinstance(protocol, BoundedRequest):
            protocol.casa_splice(message)  # answered through the request's queue, even when the client is gone
            return None
        if message.get("type") == STREAM and isinstance(protocol, BoundedRequest):
            protocol.casa_release()
            return None
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
    """A request whose body may not exceed settings.MAX_REQUEST_BYTES, and whose file content is streamed.

    Bound: a larger declared length is refused with 413 before a byte of the body is read, and a chunked body is
    refused as soon as it grows past the bound. A streamed body of a declared length is exempt: the upload view
    refuses it before reading unless the upload expects exactly that many bytes more (its free space was checked).

    Streaming: daphne starts the application only once the whole body is in a temporary file on the system disk
    (on a Raspberry Pi, its SD card). A tus PATCH (file content, files/streaming.py) instead starts the application
    as soon as its headers are in, and each piece of the body goes to it as it arrives: the upload view writes
    while the client still sends, and nothing is staged. The socket stops being read while the application is
    STREAM_AHEAD messages behind, so a slow disk holds the client back instead of filling memory.

    Splicing (casa_splice): a body of a declared length is held until the application asks for it, either to be
    written into a file inside the kernel or streamed as above (casaos_site/body_splice.py has the protocol).
    """

    casa_refused = False
    casa_received = 0
    casa_streaming = False  # this request's body goes to the application as it arrives
    casa_declared = False  # the body's length was declared (Content-Length)
    casa_body_done = False
    casa_paused = False
    casa_splicing = None  # a threading.Event while a splice runs: set it to end the splice's wait for the client
    casa_held = False  # the body is not read until the application asks for it (spliced or streamed)
    casa_continue = False  # the client waits for "100 Continue", sent once the application asks for the body
    casa_sending = None  # a threading.Event while a sendfile runs: set it to end the wait for the client
    casa_aborted = False  # a sendfile failed part way: the connection is closed, nothing more is sent

    def gotLength(self, length):
        streams, self.casa_declared = self._casa_streams(), length is not None
        if length is not None and length > settings.MAX_REQUEST_BYTES and not streams:
            self.casa_refuse()  # a streamed body of a declared length is the upload view's to accept or refuse
            return
        if streams:
            self.content = _Discard()
            self.casa_streaming = True
            self._casa_start()
            return
        super().gotLength(length)

    def handleContentChunk(self, data):
        if self.casa_refused:
            return
        self.casa_received += len(data)
        if self.casa_received > settings.MAX_REQUEST_BYTES and not (self.casa_streaming and self.casa_declared):
            self.casa_refuse()
            return
        if self.casa_streaming:
            if data:
                self._casa_feed(data, more=True)
            return
        super().handleContentChunk(data)

    def process(self):
        if self.casa_refused:
            return None  # answered already; the application never sees this request
        if self.casa_streaming:
            self.casa_body_done = True  # Twisted calls this once the whole body is in
            self._casa_feed(b"", more=False)
            return None
        return super().process()

    def handle_reply(self, message):
        if message.get("type") == "http.response.start" and self.casa_streaming and not self.casa_body_done:
            # An answer before the whole body (a refused offset, a failed check): the rest of the body is never
            # read, so the connection cannot carry another request; say so and close it after this response.
            self.channel.persistent = False
            message = {**message, "headers": [*message.get("headers", ()), (b"connection", b"close")]}
        return super().handle_reply(message)

    # ------------------------------------------------------------------------ streaming
    def _casa_streams(self) -> bool:
        command = getattr(self.channel, "_command", b"")
        content_type = (self.requestHeaders.getRawHeaders(b"content-type") or [b""])[0]
        return command.upper() == b"PATCH" and content_type.split(b";")[0].strip().lower() == STREAMED_TYPE

    def _casa_start(self) -> None:
        """What Twisted's requestReceived and daphne's process do, at the end of the headers instead of the body."""
        channel = self.channel
        self.method, self.uri, self.clientproto = channel._command, channel._path, channel._version
        self.path, _, query = self.uri.partition(b"?")
        self.args = {}
        self.request_start = time.time()
        if hasattr(self.client, "host") and hasattr(self.client, "port"):
            self.client_addr = [str(self.client.host), self.client.port]
            self.server_addr = [str(self.host.host), self.host.port]
        self.client_scheme = "https" if self.isSecure() else "http"
        self.query_string = query
        try:
            self.path.decode("ascii")
            query.decode("ascii")
        except UnicodeDecodeError:
            self.casa_refuse(400, "Bad Request", "Invalid characters in the path or query string.")
            return
        for name, values in self.requestHeaders.getAllRawHeaders():
            if not HEADER_NAME_RE.fullmatch(name) or any(INVALID_HEADER_VALUE_BYTES.intersection(v) for v in values):
                self.casa_refuse(400, "Bad Request", "Invalid header.")
                return
        self.root_path = self.server.root_path
        self.clean_headers = [
            (name.lower(), value)
            for name, values in self.requestHeaders.getAllRawHeaders()
            if b"_" not in name  # CVE-2015-0219, as daphne does
            for value in values
        ]
        extensions = {SPLICE: {}} if self._casa_can_splice() else {}
        if extensions:
            # Hold the body until the application says how it wants it: read ahead into Python now, it would go
            # through Python even when the view then asks for a splice (what came with the headers still does).
            self.casa_held = True
            self.channel.transport.pauseProducing()
            expect = (self.requestHeaders.getRawHeaders(b"expect") or [b""])[0]
            if expect.lower() == b"100-continue" and self.clientproto == b"HTTP/1.1":
                # Twisted would say "go ahead" right after these headers; a client the view refuses (a wrong
                # offset, no permission) must not be told to send its body, so it is said when the view asks.
                self.casa_continue = True
                self.requestHeaders.removeHeader(b"expect")
        self.application_queue = self.server.create_application(
            self,
            {
                "extensions": extensions,
                "type": "http",
                "http_version": self.clientproto.split(b"/")[-1].decode("ascii"),
                "method": self.method.decode("ascii"),
                "path": unquote(self.path.decode("ascii")),
                "raw_path": self.path,
                "root_path": self.root_path,
                "scheme": self.client_scheme,
                "query_string": self.query_string,
                "headers": self.clean_headers,
                "client": self.client_addr,
                "server": self.server_addr,
            },
        )

    def _casa_feed(self, data: bytes, *, more: bool) -> None:
        queue = self.application_queue
        if queue is None or self.finished:
            return  # answered already (or never started): what is left of the body is dropped
        queue.put_nowait({"type": "http.request", "body": data, "more_body": more})
        if more and not self.casa_paused and queue.qsize() >= STREAM_AHEAD:
            self.casa_paused = True
            self.channel.transport.pauseProducing()
            asyncio.get_event_loop().call_later(STREAM_POLL, self._casa_maybe_resume)

    def _casa_maybe_resume(self) -> None:
        queue, transport = self.application_queue, getattr(self.channel, "transport", None)
        if transport is None or self.finished or self.casa_body_done or self.casa_splicing or self.casa_held:
            self.casa_paused = False  # a splice (or the release of a held body) resumes the socket itself
            return
        if queue is not None and queue.qsize() > STREAM_AHEAD // 2:
            asyncio.get_event_loop().call_later(STREAM_POLL, self._casa_maybe_resume)
            return
        self.casa_paused = False
        transport.resumeProducing()

    # ------------------------------------------------------------------------ splicing
    def _casa_can_splice(self) -> bool:
        """A body of a declared length on a plain TCP connection: the socket carries exactly its bytes."""
        decoder = getattr(self.channel, "_transferDecoder", None)
        transport = self.channel.transport
        return (
            isinstance(decoder, _IdentityTransferDecoder)
            and decoder.contentLength is not None
            and not self.isSecure()
            and hasattr(transport, "socket")
            and hasattr(os, "splice")
        )

    def _casa_go_ahead(self) -> None:
        transport = getattr(self.channel, "transport", None)  # the channel is gone once the client is
        if self.casa_continue and not self.finished and transport is not None:
            self.casa_continue = False
            transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def casa_release(self) -> None:
        """The application reads the body itself ("casaos.body.stream"): stream it from here on."""
        if not self.casa_held:
            return
        self.casa_held = False
        self._casa_go_ahead()
        transport = getattr(self.channel, "transport", None)
        if transport is not None and not self.finished and not self.casa_splicing and not self.casa_paused:
            transport.resumeProducing()

    def casa_splice(self, message: dict) -> None:
        """Write the rest of this body into message["fd"], starting at message["offset"].

        Bytes already received and still queued for the application go first, then Twisted stops reading the
        socket and a worker thread splices the rest of the declared length straight into the file (the
        application checks that length before it asks). The application gets exactly one {"type":
        "casaos.body.spliced", "count": n, "error": OSError | None} back in its queue; afterwards the request goes
        on as usual (its final body message, or a disconnect). The file descriptor is duplicated: the
        application's copy may close at any time without the thread writing into a recycled descriptor.
        """
        queue = self.application_queue
        received, ended = [], None
        while not queue.empty() and ended is None:
            queued = queue.get_nowait()
            received.append(queued.get("body", b""))
            if queued["type"] != "http.request" or not queued.get("more_body", False):
                ended = {**queued, "body": b""}  # handed back after the answer; its bytes are in `received`
        transport = getattr(self.channel, "transport", None)
        splicing = ended is None and not self.finished and transport is not None and self._casa_can_splice()
        left = self.channel._transferDecoder.contentLength if splicing else 0
        file_fd = os.dup(message["fd"])  # an error here reaches the application from its send()
        try:
            sock_fd = os.dup(transport.socket.fileno()) if splicing else -1
        except OSError:
            os.close(file_fd)
            raise
        self.casa_splicing = stop = threading.Event()
        self.casa_held = False  # the splice resumes the socket when it is done
        if splicing:
            transport.pauseProducing()
            self._casa_go_ahead()
        loop = asyncio.get_event_loop()

        def splice() -> None:
            try:
                result = splice_body(
                    sock_fd,
                    file_fd,
                    message["offset"],
                    left,
                    received=received,
                    write_behind=message.get("write_behind", False),
                    stop=stop,
                    progress=lambda: loop.call_soon_threadsafe(self._casa_alive),
                )
            except Exception as exc:  # never leave the view waiting for its answer
                logger.exception("splicing a request body failed")
                result = Spliced(error=OSError(str(exc)))
            loop.call_soon_threadsafe(self._casa_spliced, result, sock_fd, file_fd, ended)

        # A thread of its own per splice (it waits on one client, and must not hold up Django's threads); a daemon,
        # so stopping the server never waits for a silent client (what it wrote past the recorded offset is cut
        # off by the next PATCH).
        threading.Thread(target=splice, name="body-splice", daemon=True).start()

    def _casa_alive(self) -> None:
        if getattr(self.channel, "resetTimeout", None) is not None:
            self.channel.resetTimeout()  # bytes are flowing: Twisted's idle timeout must not cut the client off

    def _casa_spliced(self, result: Spliced, sock_fd: int, file_fd: int, ended: dict | None) -> None:
        os.close(file_fd)
        if sock_fd >= 0:
            os.close(sock_fd)
        self.casa_splicing = None
        self.casa_received += result.moved
        self.application_queue.put_nowait(
            {"type": SPLICED, "count": result.received + result.moved, "error": result.error}
        )
        if ended is not None:
            self.application_queue.put_nowait(ended)  # the end of the body (or the client leaving) comes after
        channel = self.channel
        if sock_fd < 0 or self.finished or channel is None or channel.transport is None:
            return
        decoder = channel._transferDecoder
        if result.moved and isinstance(decoder, _IdentityTransferDecoder):
            decoder.contentLength -= result.moved
            if decoder.contentLength == 0:
                decoder.dataReceived(b"")  # the whole body is in: Twisted finishes the request (see process)
        channel.transport.resumeProducing()  # the rest of the body, a client's goodbye, or its next request

    # ------------------------------------------------------------------------ sendfile
    def casa_can_sendfile(self) -> bool:
        """A plain TCP connection: the socket carries exactly the bytes written to it."""
        transport = getattr(self.channel, "transport", None)
        return not self.isSecure() and hasattr(transport, "socket") and hasattr(os, "sendfile")

    async def casa_sendfile(self, message: dict) -> None:
        """Send message["count"] bytes of message["file"] from message["offset"], after the headers.

        The response must have its Content-Length (the bytes go out as they are, never chunked). A worker thread
        of its own sends them (a slow client must not hold up Django's threads); the descriptors are duplicated,
        so the application's copies may close at any time. A short send (the client left, the file shrank, a
        read error) closes the connection: the client gets what was sent, then the end of a cut-off body, never a
        wrong one (a reset instead would make its system drop the last bytes it had not read yet).
        """
        if self.finished or self.channel is None:
            return
        if not self._response_started:
            raise ValueError("HTTP response has not yet been started but got " + ZEROCOPY)
        http.Request.write(self, b"")  # the status line and headers, once
        if self.chunked or self.method == b"HEAD":
            raise ValueError(ZEROCOPY + " needs a Content-Length and a body")
        transport = self.channel.transport
        await _flushed(transport)
        result = await self._casa_send_in_thread(transport, message)
        self.sentLength += result.count
        if result.error is not None:
            logger.info("a download stopped after %d bytes: %s", result.count, result.error)
            self.casa_aborted = True
            if self.channel is not None and self.channel.transport is not None:
                self.channel.transport.loseConnection()

    def _casa_send_in_thread(self, transport, message: dict) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        file_fd = os.dup(message["file"].fileno())
        sock_fd = os.dup(transport.socket.fileno())
        self.casa_sending = stop = threading.Event()

        def run() -> None:
            try:
                result = send_file(
                    sock_fd,
                    file_fd,
                    message.get("offset", 0),
                    message["count"],
                    stop=stop,
                    progress=lambda: loop.call_soon_threadsafe(self._casa_alive),
                )
            except Exception as exc:  # never leave the application waiting for its send()
                logger.exception("sending a file failed")
                result = Sent(error=OSError(str(exc)))
            finally:
                os.close(file_fd)
                os.close(sock_fd)
            loop.call_soon_threadsafe(_resolve, done, result)

        threading.Thread(target=run, name="body-sendfile", daemon=True).start()
        return done

    def connectionLost(self, reason):
        if self.casa_sending is not None:
            self.casa_sending.set()
        if self.casa_splicing is not None:
            self.casa_splicing.set()
        super().connectionLost(reason)

    # ------------------------------------------------------------------------ refusing
    def casa_refuse(self, status: int = 413, reason: str = "Content Too Large", detail: str = ""):
        self.casa_refused = True
        staged = getattr(self, "content", None)
        if staged is not None:
            staged.close()  # what was staged so far goes now, not when the connection ends
        self.content = _Discard()
        # Twisted answers "Expect: 100-continue" right after gotLength; a refused client must not be told to send.
        self.requestHeaders.removeHeader(b"expect")
        detail = detail or f"Request body too large (at most {settings.MAX_REQUEST_BYTES} bytes)."
        body = json.dumps({"detail": detail})
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        transport = self.channel.transport
        transport.write(head.encode() + body.encode())
        transport.loseConnection()  # stops reading: the rest of the body is never received


async def _flushed(transport) -> None:
    """Until Twisted has handed the socket everything written so far (the headers): the file must follow them.

    Twisted offers no public way to ask; its write buffer is `dataBuffer` from `offset`, then `_tempDataBuffer`.
    """
    while len(transport.dataBuffer) > transport.offset or transport._tempDataLen:
        if transport.disconnected:
            return  # the send that follows fails at once and says so
        await asyncio.sleep(0.001)


def _resolve(future: asyncio.Future, result) -> None:
    if not future.done():
        future.set_result(result)


class _Discard:
    """Stands in for the staged body of a refused or streamed request (Twisted still touches it)."""

    closed = False

    def write(self, data):
        return len(data)

    def seek(self, *args):
        return 0

    def read(self, *args):
        return b""

    def tell(self):
        return 0

    def close(self):
        pass


class BoundedHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = BoundedRequest
        return protocol
