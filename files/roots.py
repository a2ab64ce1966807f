"""Where a base of the file manager lies: the files root, or a disk or pool we mounted, checked on every open.

A disk's mount point is an empty folder of the system disk whenever the disk is not mounted there: a write through
it would land on the system disk, and a listing would show an empty disk. So a disk root is opened by its path and
then held to what the kernel says is mounted at that path now: the descriptor's mount (its `mnt_id`) must be the
mount whose mount point is that path, and that mount's source the disk's device (a pool: its mergerfs). Anything
else refuses the act with `Unavailable` before a single name is opened beneath it. Every open of every verb comes
here (files/paths.py `open_below`), so no verb can reach an unmounted disk's empty folder.
"""

import os
import select
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from casaos_site.i18n import deferred

from .fs import PATH_DIR

DISK_PREFIX = "@"  # an admin's view names a disk "@<its folder under the media root>": "@Data/Films"
MOUNTINFO = Path("/proc/self/mountinfo")


class Unavailable(Exception):
    """A disk that is not mounted where our table says (unmounted, removed, or something else there)."""


@dataclass(frozen=True)
class Root:
    """The real folder a base lies on. `key`: "" for the files root, "mount:<filesystem UUID>" or "pool:<name>" for a
    disk; `source`: what must be mounted at `path`; `problem`: why the disk cannot be used now."""

    path: Path
    key: str = ""
    name: str = ""
    source: str = ""
    problem: str = ""

    @property
    def is_disk(self) -> bool:
        return bool(self.key)

    def open(self) -> int:
        """An O_PATH descriptor of the root; for a disk, only while it is mounted there (Unavailable otherwise)."""
        if self.problem:
            raise Unavailable(self.problem)
        fd = os.open(self.path, PATH_DIR | os.O_NOFOLLOW | os.O_CLOEXEC)
        if self.is_disk and not self._mounted_at(fd):
            os.close(fd)
            raise Unavailable(
                deferred("The disk “%(name)s” is not mounted now; nothing was read or written there.", name=self.name)
            )
        return fd

    def _mounted_at(self, fd: int) -> bool:
        mount = mount_of(fd)
        return mount is not None and mount[0] == os.fsencode(self.path) and mount[1] == os.fsencode(self.source)


def files_root_root() -> Root:
    return Root(path=Path(os.path.realpath(settings.FILES_ROOT)))


# ---------------------------------------------------------------------------- the kernel's mount table
def mount_of(fd: int) -> tuple[bytes, bytes] | None:
    """(mount point, source) of the mount the descriptor lies on, as /proc/self/mountinfo names them."""
    return _TABLE.get().get(_mnt_id(fd))


class _MountTable:
    """/proc/self/mountinfo by mount id, read again only when the kernel says it changed: the file held open polls
    POLLPRI|POLLERR after any mount or unmount (reading it costs milliseconds; every open of a disk asks)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.file, self.pid, self.table = None, 0, {}

    def get(self) -> dict[bytes, tuple[bytes, bytes]]:
        with self.lock:
            if self.pid != os.getpid() or self._changed():  # a forked worker gets a file of its own
                self._read()
            return self.table

    def _changed(self) -> bool:
        poller = select.poll()
        poller.register(self.file, select.POLLPRI | select.POLLERR)
        return bool(poller.poll(0))

    def _read(self) -> None:
        if self.pid != os.getpid():
            self.file, self.pid = MOUNTINFO.open("rb"), os.getpid()  # held open: it is what polls
        self.file.seek(0)
        self.table = dict(_parse(line) for line in self.file.read().splitlines())


def _parse(line: bytes) -> tuple[bytes, tuple[bytes, bytes]]:
    fields = line.split(b" ")
    after = fields[fields.index(b"-") + 1 :]  # fstype, source, super options
    return fields[0], (_unescape(fields[4]), _unescape(after[1]))


_TABLE = _MountTable()


def _mnt_id(fd: int) -> bytes:
    for line in Path(f"/proc/self/fdinfo/{fd}").read_bytes().splitlines():
        if line.startswith(b"mnt_id:"):
            return line.split(b":", 1)[1].strip()
    return b""


def _unescape(field: bytes) -> bytes:
    """mountinfo writes space, tab, newline and backslash as \\040, \\011, \\012, \\134."""
    for code in (b"\\040", b"\\011", b"\\012", b"\\134"):
        field = field.replace(code, bytes([int(code[1:], 8)]))
    return field


# ---------------------------------------------------------------------------- our mount table
def disk_roots() -> dict[str, Root]:
    """Every disk and pool of our mount table by key, mounted or not (one that is not says why in `problem`)."""
    from storage.models import Mount, Partition, Pool

    mounts = list(Mount.objects.all())
    devices = dict(
        Partition.objects.filter(uuid__in=[m.fs_uuid for m in mounts], disk__present=True).values_list("uuid", "path")
    )
    roots = [_mount_root(m, devices.get(m.fs_uuid, "")) for m in mounts]
    roots += [_pool_root(p) for p in Pool.objects.all()]
    roots += remote_roots()
    return {root.key: root for root in roots}


def remote_roots() -> list[Root]:
    """Network shares and cloud drives of remotes/ (mounted by their own client at a folder of ours): roots like a
    disk, held to the same check on every open (what is mounted at the folder must be the remote's own mount)."""
    from remotes.models import Remote
    from remotes.services import source

    return [_remote_root(remote, source(remote)) for remote in Remote.objects.all()]


def _remote_root(remote, source: str) -> Root:
    problem = (
        "" if remote.state == "mounted" else deferred("The remote “%(name)s” is not mounted now.", name=remote.name)
    )
    return Root(path=_real_target(remote.target), key=remote.key, name=remote.name, source=source, problem=problem)


def _mount_root(mount, device: str) -> Root:
    problem = _mount_problem(mount, device)
    key = f"mount:{mount.fs_uuid}"
    return Root(path=_real_target(mount.target), key=key, name=mount.name, source=device, problem=problem)


def _mount_problem(mount, device: str) -> str:
    if mount.state == "lost":
        return deferred(
            "The disk “%(name)s” was removed without an eject; plug it in again to use it.", name=mount.name
        )
    if mount.state != "mounted" or not device:
        return deferred("The disk “%(name)s” is not attached now.", name=mount.name)
    return ""


def _pool_root(pool) -> Root:
    usable = pool.state in ("mounted", "degraded")  # degraded: mounted over the members that are left
    problem = "" if usable else deferred("The pool “%(name)s” is not mounted now.", name=pool.name)
    source = f"mergerfs-{pool.name}"  # the fsname storage/host/mergerfs.py gives it
    return Root(path=_real_target(pool.target), key=f"pool:{pool.name}", name=pool.name, source=source, problem=problem)


def _real_target(target: str) -> Path:
    """The mount point as the kernel names it: its folder's links resolved, never the mount point's own name."""
    path = Path(target)
    return Path(os.path.realpath(path.parent)) / path.name


def gone_root(key: str, name: str) -> Root:
    """A disk of a grant that is no longer in our table (unmounted): every open says so."""
    message = deferred("The disk “%(name)s” of this folder is not mounted now.", name=name or key)
    return Root(path=Path("/nonexistent"), key=key, name=name, problem=message)


def root_of(real: Path, roots: list[Root]) -> Root:
    """The deepest of `roots` holding the real path `real` (a disk mounted inside the files root is its own root)."""
    holding = [root for root in roots if real.is_relative_to(root.path)]
    if not holding:
        raise ValueError(f"{real} is beneath no root")
    return max(holding, key=lambda root: len(root.path.parts))


def media_overlaps(root: Path) -> bool:
    """Whether disks may be mounted beneath `root` (the media root is inside it, or it inside the media root)."""
    media = Path(os.path.realpath(settings.MEDIA_ROOT_DISKS))
    return media.is_relative_to(root) or root.is_relative_to(media)


def disk_paths_inside(root: Path) -> list[Root]:
    """The disks of our table whose mount point lies beneath `root` (only when the media root is inside it)."""
    if not media_overlaps(root):
        return []
    return [r for r in disk_roots().values() if r.path.is_relative_to(root) and r.path != root]
