"""A zip written as a stream of chunks: the zip is never stored whole, in memory or on disk.

zipfile writes to any object with write(); ours collects the bytes and the generator hands them out as
they come. With no seek, zipfile uses data descriptors, and zip64 where sizes need it.
"""

# fd-level work (descriptors, O_NOFOLLOW) reads clearer with os.*:
# ruff: noqa: PTH123

import os
import stat
import time
import zipfile
from collections.abc import Callable, Iterator

from .. import fs
from ..paths import PathError, Target, resolve_in
from .common import reserved

BLOCK = 4 * 1024 * 1024  # one response message of the server (files/streaming.py)


class _Sink:
    """A write-only, non-seekable file for zipfile; `take()` empties what was written so far."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def seek(self, *args):
        raise OSError("not seekable")

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _followed(target: Target) -> Target | None:
    """The entry a selection names, through a link only while it stays beneath the base (None: left behind)."""
    try:
        return resolve_in(target.base, target.resolved)
    except PathError:
        return None


Opener = Callable[[], int] | None  # opens a file to read (by descriptor); None for a folder


def _walk(target: Target) -> Iterator[tuple[str, os.stat_result, Opener]]:
    """(name in the zip, status, opener) of every file and folder of a selection, each reached by descriptor;
    links leading out are left behind."""
    top = _followed(target)
    try:
        st = top.lstat() if top else None
    except OSError:
        st = None  # gone meanwhile
    if st is None:
        return
    if stat.S_ISREG(st.st_mode):
        yield target.name, st, lambda: top.open(fs.READ)
    if not stat.S_ISDIR(st.st_mode):
        return
    yield target.name + "/", st, None
    try:
        fd = top.open(fs.PATH_DIR)
    except OSError:
        return  # swapped for a link since: left out (the zip is already on its way, it must end well)
    with fs.held(fd):
        for parts, entry, folder in fs.tree(fd, skip=reserved):
            arcname = "/".join((target.name, *parts))
            if stat.S_ISLNK(entry.st_mode):
                yield from _link(top, parts, arcname)
            elif stat.S_ISDIR(entry.st_mode):
                yield arcname + "/", entry, None
            elif stat.S_ISREG(entry.st_mode):
                yield arcname, entry, lambda folder=folder, name=parts[-1]: fs.open_beneath(folder, (name,), fs.READ)


def _link(top: Target, parts: tuple[str, ...], arcname: str) -> Iterator[tuple[str, os.stat_result, Opener]]:
    """A link inside the selection: its file or (empty) folder when it leads inside the base."""
    link = Target(base=top.base, parts=(*top.parts, *parts), resolved=(*top.resolved, *parts), followed=False)
    inner = _followed(link)
    try:
        st = inner.lstat() if inner else None
    except OSError:
        return
    if st is not None and stat.S_ISDIR(st.st_mode):
        yield arcname + "/", st, None
    elif st is not None and stat.S_ISREG(st.st_mode):
        yield arcname, st, lambda: inner.open(fs.READ)


def write_zip(targets: list[Target], on_bytes: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """Yield a zip of the selection chunk by chunk (stored, not deflated: media does not shrink)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for target in targets:
            for arcname, st, opener in _walk(target):
                if opener is None:
                    zf.writestr(zipfile.ZipInfo(arcname, time.localtime(st.st_mtime)[:6]), b"")
                    continue
                yield from _add_file(zf, sink, arcname, opener, on_bytes)
    yield sink.take()


def _add_file(zf, sink: _Sink, arcname: str, opener, on_bytes) -> Iterator[bytes]:
    try:
        fd = opener()
    except OSError:
        return  # gone, or swapped for a link since the walk: left out
    with open(fd, "rb") as src:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return
        info = zipfile.ZipInfo(arcname, time.localtime(max(st.st_mtime, 315532800))[:6])
        info.file_size = st.st_size
        info.external_attr = (st.st_mode & 0xFFFF) << 16
        with zf.open(info, "w", force_zip64=st.st_size > 2**31) as dst:
            while block := src.read(BLOCK):
                dst.write(block)
                if on_bytes:
                    on_bytes(len(block))
                yield sink.take()
