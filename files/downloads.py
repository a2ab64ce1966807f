"""Streamed file responses: Range (resume, media seeking), safe Content-Type/Disposition, streamed zips.

Under ASGI, Django drains a *synchronous* streaming iterator into a list before sending it, so every body
here is an asynchronous iterator: each block is read in a worker thread and sent as it comes.
"""

import asyncio
import mimetypes
import os
import re
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header, http_date
from django.utils.translation import gettext as _

from . import fs
from .paths import PathError, Target
from .services.ops import etag_from
from .services.zipstream import write_zip

BLOCK = 4 * 1024 * 1024  # fewer thread hops per byte; the file is read while the socket drains
# Shown in the browser; everything else (HTML, SVG, XML, Markdown, scripts…) is always a download.
INLINE_TYPES = re.compile(r"^(image/(png|jpeg|gif|webp|avif|bmp)|video/.+|audio/.+|application/pdf|text/plain)$")
# User files can never run script in our origin, even when opened directly.
SANDBOX_CSP = "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _user_headers(response, name: str, *, inline: bool) -> None:
    response["Content-Disposition"] = content_disposition_header(not inline, name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX_CSP
    response["Cache-Control"] = "private, no-cache"


def content_type(name: str) -> str:
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed == "text/plain" else guessed


def parse_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """(start, end inclusive) of one byte range; None: serve everything; False: unsatisfiable (416)."""
    if not header:
        return None
    match = RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None  # multiple or malformed ranges: the whole file is a valid answer
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return False
    return start, end


class FileBody:
    """A file's bytes from `start`, `length` of them, read from a descriptor the view already opened, in blocks, each
    read in a worker thread while the one before it is being sent. The same descriptor gave the headers, so the body
    is the file they describe, whatever is renamed meanwhile. Django calls close() when the response is done, read
    or not (a HEAD, a client gone before the first byte): the descriptor is closed once, and never mid-read."""

    def __init__(self, fd: int, start: int, length: int):
        self.fd, self.start, self.length = fd, start, length
        self.blocks = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        self.blocks = self._blocks()
        return self.blocks

    def fileno(self) -> int:
        """The open file, for a server that sends the range with sendfile(2) instead (files/streaming.py)."""
        return self.fd

    def is_content_of(self, response) -> bool:
        """The response still streams these blocks as they are (no middleware wrapped its content)."""
        return self.blocks is not None and getattr(response, "_iterator", None) is self.blocks

    async def _blocks(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        start, end = self.start, self.start + self.length
        pending = loop.run_in_executor(None, os.pread, self.fd, min(BLOCK, self.length), start)
        try:
            while pending is not None:
                block = await pending
                start += len(block)
                more = bool(block) and start < end
                pending = (
                    loop.run_in_executor(None, os.pread, self.fd, min(BLOCK, end - start), start) if more else None
                )
                if block:
                    yield block
        finally:
            if pending is not None:
                await asyncio.wait([pending])  # the read in flight must finish before its descriptor closes

    def close(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)


def open_file(target: Target) -> int:
    """The file a Target names, open for reading by descriptor (404 when missing, 400 when not a file)."""
    try:
        fd = target.open(fs.READ)
    except FileNotFoundError:
        raise PathError(_("This is not a file."), 404) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise PathError(_("This is not a file."), 400)
    return fd


def file_response(request, target: Target, *, inline: bool = False):
    """Serve a file with Range/If-Range, ETag and the safe headers (HEAD answers headers only). The file is opened
    once, by descriptor beneath the root with no link on the way: headers and body come from that descriptor."""
    fd = open_file(target)
    try:
        response, body = _answer(request, fd, target.name, inline=inline)
    except BaseException:
        os.close(fd)
        raise
    if body is None:
        os.close(fd)
    return response


def _answer(request, fd: int, name: str, *, inline: bool):
    """(response, its FileBody or None) for the open file `fd`."""
    st = os.fstat(fd)
    size, etag = st.st_size, f'"{etag_from(st)}"'
    ctype = content_type(name)
    inline = inline and bool(INLINE_TYPES.match(ctype.split(";")[0]))
    if request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=304, headers={"ETag": etag}), None
    span = parse_range(request.headers.get("Range"), size)
    if_range = request.headers.get("If-Range")
    if if_range and if_range not in (etag, http_date(st.st_mtime)):
        span = None  # the file changed since the client's first part: send it whole
    if span is False:
        response = HttpResponse(status=416, headers={"Content-Range": f"bytes */{size}"})
        _user_headers(response, name, inline=False)
        return response, None
    start, end = span or (0, size - 1)
    length = max(0, end - start + 1)
    body = FileBody(fd, start, length) if request.method != "HEAD" else None
    response = StreamingHttpResponse(body or _empty(), status=206 if span else 200, content_type=ctype)
    response.file_body = body  # a plain file range: the server may send it with sendfile(2) (files/streaming.py)
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Last-Modified"] = http_date(st.st_mtime)
    if span:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    _user_headers(response, name, inline=inline)
    return response, body


async def _empty() -> AsyncIterator[bytes]:
    return
    yield b""


async def _threaded(gen: Iterator[bytes]) -> AsyncIterator[bytes]:
    """A blocking generator's chunks, each produced in a worker thread while the one before it is being sent."""
    loop = asyncio.get_running_loop()
    done = object()
    pending = loop.run_in_executor(None, next, gen, done)
    try:
        while (chunk := await pending) is not done:
            pending = loop.run_in_executor(None, next, gen, done)
            if chunk:
                yield chunk
        pending = None
    finally:
        if pending is not None:
            await asyncio.wait([pending])  # a generator cannot be closed while it runs in another thread
        gen.close()


def zip_response(targets: list[Target], name: str):
    """A zip of the selection, produced while it is sent (no temporary copy anywhere)."""
    response = StreamingHttpResponse(_threaded(write_zip(targets)), content_type="application/zip")
    _user_headers(response, name, inline=False)
    return response


def thumbnail_file_response(path: Path):
    # Our own folder (<data dir>/thumbs), out of every user's reach: a path string is safe there.
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    response = StreamingHttpResponse(FileBody(fd, 0, os.fstat(fd).st_size), content_type="image/webp")
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
