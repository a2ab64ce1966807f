"""A zip written as a stream of chunks: the zip is never stored whole, in memory or on disk.

zipfile writes to any object with write(); ours collects the bytes and the generator hands them out as
they come. With no seek, zipfile uses data descriptors, and zip64 where sizes need it.
"""

# fd-level work (os.open flags O_EXCL/O_NOFOLLOW, renameat2, copy_file_range) reads clearer with os.*:
# ruff: noqa: PTH123

import os
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from ..paths import RESERVED_PREFIX, Target, contained

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


def _walk(target: Target) -> Iterator[tuple[Path, str]]:
    """(real path, name in the zip) of every file and folder of a selection, links leading out left behind."""
    base = target.base.real
    root = target.real
    if root.is_symlink() and not contained(Path(os.path.realpath(root)), base):
        return
    if not root.is_dir():
        yield root, target.name
        return
    yield root, target.name + "/"
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(RESERVED_PREFIX))
        rel = Path(dirpath).relative_to(root)
        for name in dirnames:
            yield Path(dirpath, name), str(Path(target.name, rel, name)) + "/"
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if name.startswith(RESERVED_PREFIX) or (
                path.is_symlink() and not contained(Path(os.path.realpath(path)), base)
            ):
                continue
            yield path, str(Path(target.name, rel, name))


def write_zip(targets: list[Target], on_bytes: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """Yield a zip of the selection chunk by chunk (stored, not deflated: media does not shrink)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for target in targets:
            for real, arcname in _walk(target):
                if arcname.endswith("/"):
                    zf.writestr(zipfile.ZipInfo(arcname, time.localtime(real.stat().st_mtime)[:6]), b"")
                    continue
                if not real.is_file():
                    continue
                yield from _add_file(zf, sink, real, arcname, on_bytes)
    yield sink.take()


def _add_file(zf, sink: _Sink, real: Path, arcname: str, on_bytes) -> Iterator[bytes]:
    st = real.stat()
    info = zipfile.ZipInfo(arcname, time.localtime(max(st.st_mtime, 315532800))[:6])
    info.file_size = st.st_size
    info.external_attr = (st.st_mode & 0xFFFF) << 16
    with open(real, "rb") as src, zf.open(info, "w", force_zip64=st.st_size > 2**31) as dst:
        while block := src.read(BLOCK):
            dst.write(block)
            if on_bytes:
                on_bytes(len(block))
            yield sink.take()
