"""Streamed file responses: Range (resume, media seeking), safe Content-Type/Disposition, streamed zips.

Under ASGI, Django drains a *synchronous* streaming iterator into a list before sending it, so every body
here is an asynchronous iterator: each block is read in a worker thread and sent as it comes.
"""

import asyncio
import mimetypes
import os
import re
import stat
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header, http_date

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


async def _file_blocks(opener: Callable[[], int], start: int, length: int, expected=None) -> AsyncIterator[bytes]:
    """The file's bytes in blocks, each read in a worker thread while the one before it is being sent. `opener`
    opens the file (by descriptor); `expected`: its (device, inode) when the headers were made, or the body stops."""
    loop = asyncio.get_running_loop()
    fd = await loop.run_in_executor(None, opener)
    pending = None
    try:
        if expected is not None and _identity(os.fstat(fd)) != expected:
            return  # another file stands there since the headers went out: send none of it
        end = start + length
        pending = loop.run_in_executor(None, os.pread, fd, min(BLOCK, length), start)
        while pending is not None:
            block = await pending
            start += len(block)
            more = bool(block) and start < end
            pending = loop.run_in_executor(None, os.pread, fd, min(BLOCK, end - start), start) if more else None
            if block:
                yield block
    finally:
        if pending is not None:
            await asyncio.wait([pending])  # the read in flight must finish before its descriptor closes
        os.close(fd)


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def regular_file(target: Target) -> os.stat_result:
    """The status of the file a Target names, read by descriptor (404 when missing, 400 when not a file)."""
    try:
        with target.fd(fs.READ) as fd:
            st = os.fstat(fd)
    except FileNotFoundError:
        raise PathError("This is not a file.", 404) from None
    if not stat.S_ISREG(st.st_mode):
        raise PathError("This is not a file.", 400)
    return st


def file_response(request, target: Target, *, inline: bool = False):
    """Serve a file with Range/If-Range, ETag and the safe headers (HEAD answers headers only). The file is opened
    by descriptor beneath the root, with no link on the way, for the headers and again for the body."""
    st = regular_file(target)
    size, etag = st.st_size, f'"{etag_from(st)}"'
    ctype = content_type(target.name)
    inline = inline and bool(INLINE_TYPES.match(ctype.split(";")[0]))
    if request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=304, headers={"ETag": etag})
    span = parse_range(request.headers.get("Range"), size)
    if_range = request.headers.get("If-Range")
    if if_range and if_range not in (etag, http_date(st.st_mtime)):
        span = None  # the file changed since the client's first part: send it whole
    if span is False:
        response = HttpResponse(status=416, headers={"Content-Range": f"bytes */{size}"})
        _user_headers(response, target.name, inline=False)
        return response
    start, end = span or (0, size - 1)
    length = max(0, end - start + 1)
    if request.method == "HEAD":
        body = _empty()
    else:
        body = _file_blocks(lambda: target.open(fs.READ), start, length, _identity(st))
    response = StreamingHttpResponse(body, status=206 if span else 200, content_type=ctype)
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Last-Modified"] = http_date(st.st_mtime)
    if span:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    _user_headers(response, target.name, inline=inline)
    return response


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
    def opener() -> int:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)

    response = StreamingHttpResponse(_file_blocks(opener, 0, path.stat().st_size), content_type="image/webp")
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
