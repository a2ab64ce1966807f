"""The metrics history: one fixed-size ring file per series, so the store never grows with time.

A file holds two tiers of SLOTS records each: every 10 s for 24 hours, then every 5 minutes for 30 days. A
record is (slot number since the epoch, samples averaged into it, value); the slot's place in the file is its
number modulo SLOTS, so writing slot n+SLOTS overwrites slot n, and a record whose number is not the one asked
for is a gap (old, or never written). Same idea as rrdtool; plain files because each write is one pwrite of
12 bytes, with no database transaction or index to rewrite on a Raspberry Pi's SD card.
"""

import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

RECORD = struct.Struct("<IIf")  # slot number, samples averaged into it, value (float32: 7 digits are plenty)
SLOTS = 8640  # 24 h of 10 s, and 30 days of 5 min: the same count for both tiers


@dataclass(frozen=True)
class Tier:
    step: int  # seconds per slot
    offset: int  # byte offset of the tier in the file


FINE = Tier(step=10, offset=0)
COARSE = Tier(step=300, offset=SLOTS * RECORD.size)
FILE_SIZE = 2 * SLOTS * RECORD.size  # 207,360 bytes per series, whatever happens
MAX_SERIES = 300  # so the whole store stays under 63 MB (about 15 host series and 4 per app on a real box)
SUFFIX = ".ring"


def series_file(root: Path, key: tuple[str, ...]) -> Path:
    """The file of one series: its key's parts, each escaped, so no part can name a path outside `root`."""
    return root / ("+".join(quote(part, safe="") for part in key) + SUFFIX)


def series_key(path: Path) -> tuple[str, ...]:
    return tuple(unquote(part) for part in path.name.removesuffix(SUFFIX).split("+"))


def _open(path: Path, *, may_create: Callable[[], bool]) -> int | None:
    """The series' file, opened for writing; made at full size if new and `may_create()` allows (else None)."""
    try:
        return os.open(path, os.O_RDWR)
    except FileNotFoundError:
        if not may_create():
            return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.ftruncate(fd, FILE_SIZE)  # a sparse file of empty slots (slot number 0 is never a real one)
    return fd


def _merge(fd: int, tier: Tier, slot: int, value: float) -> None:
    """Write a value into its slot, averaged with what the slot already holds for the same slot number."""
    at = tier.offset + (slot % SLOTS) * RECORD.size
    old_slot, count, old = RECORD.unpack(os.pread(fd, RECORD.size, at))
    if old_slot == slot:
        value, count = old + (value - old) / (count + 1), count + 1
    else:
        count = 1
    os.pwrite(fd, RECORD.pack(slot, count, value), at)


def store_write(
    root: Path, points: dict[tuple[str, ...], float], *, when: float | None = None, max_series: int = MAX_SERIES
) -> list[tuple[str, ...]]:
    """Record one value per series at `when` (now): into its 10 s slot and into the mean of its 5 min slot.

    A new series is made only while fewer than `max_series` exist: file systems mounted once under ever new names
    (a test's temporary folders) must not grow the store past its bound. Returns the keys refused for that reason.
    """
    when = time.time() if when is None else when
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    room = _Room(root, max_series)
    refused = []
    for key, value in points.items():
        fd = _open(series_file(root, key), may_create=room.take)
        if fd is None:
            refused.append(key)
            continue
        try:
            for tier in (FINE, COARSE):
                _merge(fd, tier, int(when // tier.step), float(value))
        finally:
            os.close(fd)
    return refused


class _Room:
    """How many more series may be made; the folder is counted only when a new series is asked for."""

    def __init__(self, root: Path, limit: int) -> None:
        self.root, self.limit, self.left = root, limit, None

    def take(self) -> bool:
        if self.left is None:
            self.left = self.limit - sum(1 for _ in self.root.glob(f"*{SUFFIX}"))
        self.left -= 1
        return self.left >= 0


def store_read(root: Path, key: tuple[str, ...], *, tier: Tier, first: int, count: int) -> list[float | None]:
    """Values of slots first .. first+count-1 of one tier (None where nothing was recorded)."""
    try:
        fd = os.open(series_file(root, key), os.O_RDONLY)
    except FileNotFoundError:
        return [None] * count
    try:
        raw = os.pread(fd, SLOTS * RECORD.size, tier.offset)
    finally:
        os.close(fd)
    if len(raw) != SLOTS * RECORD.size:
        return [None] * count
    records = list(RECORD.iter_unpack(raw))
    return [_value(records[slot % SLOTS], slot) for slot in range(first, first + count)]


def _value(record: tuple[int, int, float], slot: int) -> float | None:
    return record[2] if record[0] == slot else None


def store_series(root: Path, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Keys of the series kept under `root` that start with `prefix`."""
    if not root.is_dir():
        return []
    keys = [series_key(path) for path in root.glob(f"*{SUFFIX}")]
    return sorted(key for key in keys if key[: len(prefix)] == prefix)


def store_prune(
    root: Path, *, drop: Callable[[tuple[str, ...]], bool] = lambda key: False, now: float | None = None
) -> list[Path]:
    """Delete the series not written for the coarse tier's whole window, and those `drop` names (a removed app's)."""
    now = time.time() if now is None else now
    removed = []
    for key in store_series(root):
        path = series_file(root, key)
        if path.stat().st_mtime < now - SLOTS * COARSE.step or drop(key):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def store_size(root: Path) -> int:
    """Bytes the store takes on disk (allocated blocks: the files are sparse until every slot was written)."""
    return sum(path.stat().st_blocks * 512 for path in root.glob(f"*{SUFFIX}")) if root.is_dir() else 0
