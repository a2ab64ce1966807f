"""Acting on files beneath a directory descriptor, never through a symlink (SECURITY.md lesson 14).

A path checked as a string and then used as a string is a race: between the two, a folder on the way can become
a symlink to anywhere. Here nothing is used as a string. `open_beneath` opens a path below a held directory
descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) where the kernel has it, and otherwise one
component at a time with O_NOFOLLOW; either way a symlink anywhere on the way fails with ELOOP. Every verb then acts
with the *at calls on (folder descriptor, one name). `resolve_links` is the only place symlinks are followed: it
reads each one on its descriptor and continues the walk below the same base, so the names it returns lead where
the links led; the act opens those names again with no symlink allowed, and a folder swapped for a link in between
fails the act instead of leading out. Plain functions on descriptors: no Django.
"""

# Descriptors and the *at calls are os.* only (pathlib has no dir_fd):
# ruff: noqa: PTH208

import contextlib
import ctypes
import errno
import os
import shutil
import stat
from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
SYS_OPENAT2 = 437  # the same number on x86_64, arm64 and armhf (new syscalls share one table)
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
MAX_LINKS = 40  # as the kernel: more links on one path is a loop (ELOOP)
PATH_DIR = os.O_PATH | os.O_DIRECTORY  # a folder to act in with the *at calls
DIR_READ = os.O_RDONLY | os.O_DIRECTORY  # a folder to list or change (fchmod, utime)
READ = os.O_RDONLY | os.O_NONBLOCK  # a FIFO opens without waiting for a writer (and is then refused as not a file)
CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL  # a new file of ours, never an existing one, never through a link


class LinkOut(Exception):
    """A symlink on the way leads out of the base (or names a place on this machine that is not beneath it)."""


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


def _openat2(dir_fd: int, path: str, flags: int, mode: int, resolve: int) -> int:
    creates = flags & os.O_CREAT or flags & os.O_TMPFILE == os.O_TMPFILE  # O_TMPFILE includes O_DIRECTORY's bit
    how = _OpenHow(flags, mode if creates else 0, resolve)  # the kernel refuses a mode it would not use
    # syscall(2) is variadic: every argument goes as a full machine word, so negative descriptors keep their sign.
    fd = _libc.syscall(
        ctypes.c_long(SYS_OPENAT2),
        ctypes.c_long(dir_fd),
        ctypes.c_char_p(os.fsencode(path)),
        ctypes.byref(how),
        ctypes.c_size_t(ctypes.sizeof(how)),
    )
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)
    return fd


def _has_openat2() -> bool:
    """Whether this kernel (and any seccomp filter around us) lets openat2 through: probed once."""
    try:
        os.close(_openat2(-100, "/", os.O_PATH | os.O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS))  # -100: AT_FDCWD
    except OSError:
        return False  # ENOSYS (before Linux 5.6), or EPERM from a container's seccomp profile
    return True


OPENAT2 = _has_openat2()  # tests switch it off to run the component walk


def _check(parts: Sequence[str]) -> None:
    # The component walk would take ".." literally: callers pass checked names only, and this holds them to it.
    if any(p in ("", ".", "..") or "/" in p or "\x00" in p for p in parts):
        raise ValueError(f"not a sequence of plain names: {parts!r}")


def open_beneath(dir_fd: int, parts: Sequence[str], flags: int = os.O_PATH, mode: int = 0o666) -> int:
    """`parts` opened beneath `dir_fd` with no symlink anywhere on the way, the last part included (O_NOFOLLOW:
    with O_PATH that yields the link itself). No parts: the folder itself, opened again with `flags`."""
    _check(parts)
    flags |= os.O_NOFOLLOW | os.O_CLOEXEC
    if not parts:
        return os.open(".", flags, dir_fd=dir_fd)
    if flags & os.O_DIRECTORY:
        return _open_folder(dir_fd, parts, flags)
    if OPENAT2:
        how = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS
        return _retrying(lambda: _openat2(dir_fd, "/".join(parts), flags, mode, how))
    return _walk_open(dir_fd, parts, flags, mode)


def _open_folder(dir_fd: int, parts: Sequence[str], flags: int) -> int:
    """A folder, never a link to one: ELOOP when a link stands there, as anywhere on the way (the kernel says ENOTDIR
    for a link as the last part, and asking again would race the swap). What the name holds is opened once (O_PATH),
    looked at, and the folder then opened from that descriptor, not through the name again."""
    with held(_folder_only(open_beneath(dir_fd, parts), parts[-1])) as entry:
        return os.open(".", flags, dir_fd=entry)


def _folder_only(fd: int, name: str) -> int:
    """`fd` if it holds a folder; otherwise it is closed and ELOOP (a link) or ENOTDIR (anything else) raised."""
    kind = stat.S_IFMT(os.fstat(fd).st_mode)
    if kind == stat.S_IFDIR:
        return fd
    os.close(fd)
    code = errno.ELOOP if kind == stat.S_IFLNK else errno.ENOTDIR
    raise OSError(code, os.strerror(code), name)


def _retrying(call):
    # EAGAIN: a rename elsewhere while the kernel checked the walk stayed beneath; trying again is what it asks.
    for _attempt in range(8):
        try:
            return call()
        except BlockingIOError:
            continue
    return call()


def _walk_open(dir_fd: int, parts: Sequence[str], flags: int, mode: int) -> int:
    """The fallback of kernels without openat2: each folder on the way opened with O_NOFOLLOW from the one before."""
    fd = dir_fd
    for name in parts[:-1]:
        fd = _step_dir(fd, name, close=fd != dir_fd)
    try:
        return os.open(parts[-1], flags, mode, dir_fd=fd)
    finally:
        if fd != dir_fd:
            os.close(fd)


def _step_dir(fd: int, name: str, *, close: bool) -> int:
    """The folder `name` in `fd` (O_PATH, never a link: ELOOP, as openat2 says); closes `fd` if asked, whatever
    happens."""
    try:
        child = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
    finally:
        if close:
            os.close(fd)
    return _folder_only(child, name)


# ---------------------------------------------------------------------------- following links
def resolve_links(dir_fd: int, parts: Sequence[str], *, follow_last: bool, base_real: str) -> tuple[str, ...]:
    """`parts` with each symlink on the way (and the last part's, if `follow_last`) replaced by where it leads.

    Each link is read on its own descriptor and the walk goes on from the descriptors already held: a relative
    target from the link's folder (each ".." steps back to the folder before, never above `dir_fd`), an absolute
    one from `dir_fd` when it names a place beneath `base_real` (the base's path on this machine). Anything else is
    LinkOut. A missing or non-folder part ends the walk: the rest is returned as given (the act then fails, or
    creates it). Only names come back; the caller opens them with open_beneath, where no link is allowed.
    """
    walk = _Walk(dir_fd, base_real)
    try:
        return walk.run(list(parts), follow_last)
    finally:
        walk.close()


class _Walk:
    """The state of one resolve_links: names done, the descriptor of each folder on the way, links taken."""

    def __init__(self, dir_fd: int, base_real: str):
        self.fds, self.done, self.links, self.base_real = [dir_fd], [], 0, PurePosixPath(base_real)

    def run(self, pending: list[str], follow_last: bool) -> tuple[str, ...]:
        while pending:
            name = pending.pop(0)
            if name == "..":
                self.up()
                continue
            if name in ("", "."):
                continue
            _check((name,))
            try:
                fd = open_beneath(self.fds[-1], (name,))
            except (FileNotFoundError, NotADirectoryError):
                return (*self.done, name, *pending)
            kind = stat.S_IFMT(os.fstat(fd).st_mode)
            if kind == stat.S_IFLNK and (pending or follow_last):
                pending[:0] = self.link(fd)
            elif kind == stat.S_IFDIR and pending:
                self.fds.append(fd)
                self.done.append(name)
            else:
                os.close(fd)
                return (*self.done, name, *pending)
        return tuple(self.done)

    def up(self) -> None:
        if not self.done:
            raise LinkOut
        self.done.pop()
        os.close(self.fds.pop())

    def link(self, fd: int) -> list[str]:
        """The parts a link leads to, from where the walk now stands (an absolute one restarts at the base)."""
        try:
            target = os.readlink("", dir_fd=fd)  # the link this descriptor holds, whatever the name now names
        finally:
            os.close(fd)
        self.links += 1
        if self.links > MAX_LINKS:
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), target)
        path = PurePosixPath(target)
        if not path.is_absolute():
            return list(path.parts)
        if not path.is_relative_to(self.base_real):
            raise LinkOut
        while self.done:
            self.up()
        return list(path.relative_to(self.base_real).parts)

    def close(self) -> None:
        for fd in self.fds[1:]:
            os.close(fd)


# ---------------------------------------------------------------------------- acting on (folder, name)
def exists_at(dir_fd: int, name: str) -> bool:
    """An entry called `name` is in the folder (a link counts as itself, dangling or not)."""
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def lstat_at(dir_fd: int, name: str) -> os.stat_result:
    return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)


def is_dir_at(dir_fd: int, name: str) -> bool:
    """A real folder (not a link to one)."""
    return stat.S_ISDIR(lstat_at(dir_fd, name).st_mode)


NO_HARD_LINKS = (errno.EIO, errno.EPERM, errno.ENOSYS, errno.EOPNOTSUPP)


def rename_noreplace(src_dir: int, src: str, dst_dir: int, dst: str) -> None:
    """Atomic rename that fails if `dst` exists (renameat2 RENAME_NOREPLACE): two racing renames cannot both win."""
    if getattr(_libc, "renameat2", None) is not None:
        if _libc.renameat2(src_dir, os.fsencode(src), dst_dir, os.fsencode(dst), RENAME_NOREPLACE) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOSYS):  # EINVAL: this file system lacks the flag
            raise OSError(err, os.strerror(err), src)
    # Fallback for file systems without RENAME_NOREPLACE: a hard link is atomic and refuses to replace.
    if is_dir_at(src_dir, src) or stat.S_ISLNK(lstat_at(src_dir, src).st_mode):
        _rename_if_free(src_dir, src, dst_dir, dst)
        return
    try:
        os.link(src, dst, src_dir_fd=src_dir, dst_dir_fd=dst_dir, follow_symlinks=False)
    except OSError as exc:
        # FUSE file systems without hard links (an rclone mount of a cloud drive answers EIO): check, then rename.
        if exc.errno not in NO_HARD_LINKS or exists_at(dst_dir, dst):
            raise
        _rename_if_free(src_dir, src, dst_dir, dst)
        return
    os.unlink(src, dir_fd=src_dir)


def _rename_if_free(src_dir: int, src: str, dst_dir: int, dst: str) -> None:
    """Where neither RENAME_NOREPLACE nor a hard link exists: not atomic, the best such a file system allows."""
    if exists_at(dst_dir, dst):
        raise FileExistsError(errno.EEXIST, "exists", dst)
    os.rename(src, dst, src_dir_fd=src_dir, dst_dir_fd=dst_dir)


def remove_at(dir_fd: int, name: str) -> None:
    """Delete a file, link or folder tree for good (a link itself, never its target; rmtree works on descriptors)."""
    try:
        if is_dir_at(dir_fd, name):
            shutil.rmtree(name, dir_fd=dir_fd)
        else:
            os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass


def make_dirs(dir_fd: int, parts: Sequence[str], mode: int = 0o755, made=None) -> int:
    """Each of `parts` made beneath `dir_fd` if missing, each entered with O_NOFOLLOW (a link on the way: ELOOP);
    returns an O_PATH descriptor of the last. `made(fd)` is called with each folder this made (not one that was there)."""
    _check(parts)
    fd = os.open(".", PATH_DIR | os.O_CLOEXEC, dir_fd=dir_fd)
    for name in parts:
        try:
            os.mkdir(name, mode, dir_fd=fd)
            new = True
        except FileExistsError:
            new = False
        except OSError:
            os.close(fd)
            raise
        fd = _step_dir(fd, name, close=True)
        if new and made is not None:
            made(fd)
    return fd


def names(dir_fd: int) -> list[str]:
    """The names in a folder (any descriptor of it, O_PATH too), sorted."""
    with held(os.open(".", DIR_READ | os.O_CLOEXEC, dir_fd=dir_fd)) as fd:
        return sorted(os.listdir(fd))


@contextlib.contextmanager
def held(fd: int) -> Iterator[int]:
    """Close `fd` when the block ends."""
    try:
        yield fd
    finally:
        os.close(fd)


def tree(dir_fd: int, rel: tuple[str, ...] = (), *, skip=lambda name: False) -> Iterator[tuple]:
    """(parts below `dir_fd`, lstat, descriptor of the folder holding it) of every entry, folders before what they
    hold; folders are entered by descriptor with O_NOFOLLOW (a folder swapped for a link meanwhile is left out)."""
    for name in names(dir_fd):
        if skip(name):
            continue
        try:
            st = lstat_at(dir_fd, name)
        except FileNotFoundError:
            continue
        yield (*rel, name), st, dir_fd
        if stat.S_ISDIR(st.st_mode):
            try:
                sub = open_beneath(dir_fd, (name,), PATH_DIR)
            except OSError:
                continue  # gone, or swapped for a link: not entered
            with held(sub):
                yield from tree(sub, (*rel, name), skip=skip)


def size_of(fd: int, *, skip=lambda name: False) -> tuple[int, int]:
    """(bytes, files) of the entry `fd` holds (O_PATH); links count as themselves, never followed."""
    st = os.fstat(fd)
    if not stat.S_ISDIR(st.st_mode):
        return st.st_size, 1
    total = count = 0
    for _parts, entry, _folder in tree(fd, skip=skip):
        if not stat.S_ISDIR(entry.st_mode):
            total, count = total + entry.st_size, count + 1
    return total, count
