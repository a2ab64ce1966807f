"""Unpacking a store zip with nothing written outside its folder: no traversal, no links, no bombs."""

from __future__ import annotations

import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

CHUNK = 64 * 1024
MAX_RATIO = 200  # unpacked / packed for one entry: more than this is a zip bomb, not a store


class ArchiveError(Exception):
    """The archive is refused; the message is shown on the store."""


@dataclass(frozen=True)
class ArchiveLimits:
    """How big an archive may be once unpacked."""

    max_unpacked: int
    max_entries: int


def _safe_name(name: str) -> PurePosixPath:
    """The entry's relative path, or ArchiveError for absolute, drive-letter, backslash or `..` names."""
    if "\\" in name or "\x00" in name:
        raise ArchiveError(f"the archive entry {name[:100]!r} has a forbidden character")
    path = PurePosixPath(name)
    if path.is_absolute() or (path.parts and path.parts[0].endswith(":")) or ".." in path.parts:
        raise ArchiveError(f"the archive entry {name[:100]!r} points outside its folder (path traversal)")
    return path


def _check_entry(info: zipfile.ZipInfo) -> None:
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver wrote no Unix file type
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        raise ArchiveError(f"the archive entry {info.filename[:100]!r} is a link or special file")
    if info.file_size > CHUNK and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise ArchiveError(f"the archive entry {info.filename[:100]!r} expands too much (zip bomb)")


def _copy(src, dst, budget: int, name: str) -> int:
    """Copy counting real bytes (headers can lie); returns bytes written."""
    written = 0
    while chunk := src.read(CHUNK):
        written += len(chunk)
        if written > budget:
            raise ArchiveError(f"the archive unpacks to more than the limit (at {name[:100]!r})")
        dst.write(chunk)
    return written


def extract_zip(archive: Path, dest: Path, limits: ArchiveLimits) -> None:
    """Unpack `archive` into the empty folder `dest`; on any refusal `dest` is removed again."""
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_entries:
                raise ArchiveError(f"the archive has more than {limits.max_entries} entries")
            if sum(i.file_size for i in infos) > limits.max_unpacked:
                raise ArchiveError("the archive unpacks to more than the limit")
            for info in infos:
                _safe_name(info.filename)
                _check_entry(info)
            dest.mkdir(parents=True, exist_ok=False)
            root = dest.resolve()
            budget = limits.max_unpacked
            for info in infos:
                target = (root / _safe_name(info.filename)).resolve()
                if not target.is_relative_to(root):
                    raise ArchiveError(f"the archive entry {info.filename[:100]!r} points outside its folder")
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, target.open("xb") as dst:
                    budget -= _copy(src, dst, budget, info.filename)
    except zipfile.BadZipFile:
        shutil.rmtree(dest, ignore_errors=True)
        raise ArchiveError("the download is not a zip archive") from None
    except (ArchiveError, OSError, RuntimeError, NotImplementedError, EOFError, zlib.error) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        if isinstance(exc, ArchiveError):
            raise
        raise ArchiveError(f"the archive could not be unpacked: {exc}") from None
