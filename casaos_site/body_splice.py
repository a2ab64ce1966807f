"""Moving a request body from the client's socket into a file inside the kernel (splice(2) through a pipe).

The web server (casaos_site/webserver.py) runs this in a worker thread when the application asks for it (the
tus upload view, once it has checked the request): the bytes never enter Python, and an upload runs as fast as
a bare socket-to-file splice on the same machine (bench/files.py measures both). Plain functions on file
descriptors, no Twisted and no Django.
"""

import contextlib
import ctypes
import errno
import fcntl
import os
import select
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# The ASGI extension (named in the scope) and its messages. While it is offered the server holds the body until
# the application asks for it: SPLICE (application -> server, answered by SPLICED) or STREAM (then the body comes
# as http.request messages, as without the extension).
SPLICE = "casaos.body.splice"
SPLICED = "casaos.body.spliced"
STREAM = "casaos.body.stream"
PIPE_SIZE = 1024 * 1024  # bytes moved per splice pair (Linux's default pipe holds 64 KiB)
WRITE_BEHIND = 8 * 1024 * 1024  # start writing to the disk every this many bytes (see write_behind)
POLL_MS = 250  # how often a wait for the client looks at `stop`
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
NO_SPLICE = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP}  # what a file system without splice_write answers


class Writer:
    """Writes at an advancing offset and, if asked, starts each written stretch on its way to the disk."""

    plain = False  # written with pwrite(2), the target's file system refused splice(2)

    def __init__(self, fd: int, offset: int, *, write_behind: bool):
        self.fd, self.offset, self.write_behind = fd, offset, write_behind
        self.synced = offset  # where the last write-behind stopped

    def wrote(self, count: int) -> None:
        self.offset += count
        if self.write_behind and self.offset - self.synced >= WRITE_BEHIND:
            write_behind(self.fd, self.synced, self.offset - self.synced)
            self.synced = self.offset

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            count = os.pwrite(self.fd, view, self.offset)
            view = view[count:]
            self.wrote(count)


def _sync_file_range():
    """libc's sync_file_range(2) (Python has no wrapper), or None where the C library lacks it."""
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (AttributeError, OSError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    return function


_SYNC_FILE_RANGE = _sync_file_range()
SYNC_FILE_RANGE_WRITE = 2  # start writeback of the range's dirty pages, without waiting for it


def write_behind(fd: int, offset: int, length: int) -> None:
    """Start writing this stretch to the disk now instead of when the kernel's flusher gets to it.

    The upload's fdatasync at the end of each request then finds almost nothing left to write, and the disk
    works while the network does. A hint only: where it is missing, the data is written back later.
    """
    if _SYNC_FILE_RANGE is not None:
        _SYNC_FILE_RANGE(fd, offset, length, SYNC_FILE_RANGE_WRITE)


@dataclass
class Spliced:
    received: int = 0  # bytes written from what the server had already read
    moved: int = 0  # bytes moved from the socket
    eof: bool = False  # the client closed the connection before the count
    error: OSError | None = None  # the file could not be written (no space left, I/O error...)


def splice_body(
    sock_fd: int,
    file_fd: int,
    offset: int,
    count: int,
    *,
    received: Iterable[bytes] = (),
    write_behind: bool = False,
    stop: threading.Event,
    idle_timeout: float = 60.0,
    progress: Callable[[], None] = lambda: None,
) -> Spliced:
    """Write `received` (body bytes the server already read), then up to `count` more bytes from the socket.

    Never raises: a failed write comes back in `error`, with the counts of what was written before it. The
    socket may be non-blocking; `stop` ends the wait for a client early (the connection went away), and so does
    `idle_timeout` seconds without a byte. `progress` is called about once a second while bytes arrive.
    """
    result = Spliced()
    writer = Writer(file_fd, offset, write_behind=write_behind)
    try:
        for data in received:
            writer.write(data)
        result.received = writer.offset - offset
        if count > 0:
            result.eof = _from_socket(sock_fd, writer, count, stop, idle_timeout, progress)
    except ConnectionError:
        result.eof = True  # reset by the client: what arrived is kept
    except OSError as exc:
        result.error = exc
    result.moved = writer.offset - offset - result.received
    return result


def _from_socket(sock_fd, writer, count, stop, idle_timeout, progress) -> bool:
    """Move up to `count` bytes; True if the client closed the connection first."""
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    idle, moved, reported = 0.0, 0, time.monotonic()
    try:
        with contextlib.suppress(OSError):  # a smaller pipe (fs.pipe-max-size) only means more round trips
            fcntl.fcntl(write_end, F_SETPIPE_SZ, PIPE_SIZE)
        poller = select.poll()
        poller.register(sock_fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        while moved < count and not stop.is_set():
            try:
                got = os.splice(
                    sock_fd,
                    write_end,
                    min(PIPE_SIZE, count - moved),
                    flags=os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK,
                )
            except BlockingIOError:
                if not poller.poll(POLL_MS):
                    idle += POLL_MS / 1000
                    if idle >= idle_timeout:
                        return False
                continue
            if got == 0:
                return True
            idle = 0.0
            _drain(read_end, writer, got)
            moved += got
            if time.monotonic() - reported >= 1:
                reported = time.monotonic()
                progress()
    finally:
        os.close(read_end)
        os.close(write_end)
    return False


def _drain(read_end: int, writer: Writer, count: int) -> None:
    """Move `count` bytes from the pipe into the file (a disk write may take several calls)."""
    while count:
        if writer.plain:
            data = os.read(read_end, count)
            writer.write(data)
            count -= len(data)
            continue
        try:
            done = os.splice(read_end, writer.fd, count, offset_dst=writer.offset, flags=os.SPLICE_F_MOVE)
        except OSError as exc:
            if exc.errno not in NO_SPLICE:
                raise
            writer.plain = True  # a file system that cannot take spliced pages: through a buffer from here on
            continue
        count -= done
        writer.wrote(done)
