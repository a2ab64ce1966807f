"""Sending a range of a file to the client's socket inside the kernel (sendfile(2)).

The web server (casaos_site/webserver.py) runs this in a worker thread when the application sends the ASGI
"http.response.zerocopysend" message (files/streaming.py, for a download of a plain file range): the bytes
never enter Python, which saves most of a download's CPU on a small board. Plain functions on file descriptors,
no Twisted and no Django.
"""

import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# The ASGI extension (named in the scope when the server offers it) and its message.
ZEROCOPY = "http.response.zerocopysend"
STEP = 8 * 1024 * 1024  # bytes asked of one sendfile(2) call (it sends what the socket buffer takes)
POLL_MS = 250  # how often a wait for the client looks at `stop`


@dataclass
class Sent:
    count: int = 0  # bytes sent
    error: OSError | None = None  # the file could not be read, or the client went away


def send_file(
    sock_fd: int,
    file_fd: int,
    offset: int,
    count: int,
    *,
    stop: threading.Event,
    idle_timeout: float = 60.0,
    progress: Callable[[], None] = lambda: None,
) -> Sent:
    """Send `count` bytes of `file_fd` from `offset` to the (non-blocking) socket. Never raises: a short count
    comes back with its cause in `error` (a file that shrank meanwhile is an EOFError-like OSError)."""
    result, idle, reported = Sent(), 0.0, time.monotonic()
    poller = select.poll()
    poller.register(sock_fd, select.POLLOUT | select.POLLHUP | select.POLLERR)
    try:
        while result.count < count and not stop.is_set():
            try:
                sent = os.sendfile(sock_fd, file_fd, offset + result.count, min(STEP, count - result.count))
            except BlockingIOError:
                idle = 0.0 if poller.poll(POLL_MS) else idle + POLL_MS / 1000
                if idle >= idle_timeout:
                    raise TimeoutError("the client took nothing for too long") from None
                continue
            if sent == 0:
                raise OSError("the file ended before the range did (it shrank while being sent)")
            result.count += sent
            if time.monotonic() - reported >= 1:
                reported = time.monotonic()
                progress()
        if result.count < count:
            raise ConnectionAbortedError("the client went away")
    except OSError as exc:
        result.error = exc
    return result
