"""Who owns what the file manager writes: the shares' service user and its group (settings.SHARES_USER), so a
file made here can be changed over SMB, where Samba acts as that user (`force user`), and the other way round.

Every verb that makes an entry (new file or folder, upload, save, copy, extract, compress) hands it over here, on
the descriptor it made: the owner becomes the service user, the group its group with the owner's rights (0644 →
0664, 0755 → 2775: a folder's group passes to what is made in it), others keep theirs. Only a process running as
root can give a file away, and only to a service user that exists: anywhere else nothing changes.
"""

import os
import pwd
import stat

from django.conf import settings


def service_ids() -> tuple[int, int] | None:
    """(uid, gid) of the service user, or None where files cannot or need not be handed over."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(settings.SHARES_USER)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def group_shared(mode: int, *, folder: bool) -> int:
    """The group gets what the owner has; a folder is also set-group-ID, so entries made in it keep the group."""
    mode |= (mode & 0o700) >> 3
    return mode | stat.S_ISGID if folder else mode


def hand_over(fd: int) -> None:
    """The entry `fd` holds (any descriptor, O_PATH too) to the service user; a link is left as it is."""
    ids = service_ids()
    if ids is None:
        return
    st = os.fstat(fd)
    if stat.S_ISLNK(st.st_mode):
        return
    # The descriptor's /proc name reaches the very entry it holds (O_PATH descriptors have no fchown).
    own = f"/proc/self/fd/{fd}"
    os.chown(own, *ids)
    mode = group_shared(stat.S_IMODE(st.st_mode), folder=stat.S_ISDIR(st.st_mode))
    os.chmod(own, mode)  # noqa: PTH101  (a /proc name of a descriptor: no Path semantics)


def hand_over_at(dir_fd: int, name: str) -> None:
    """The entry `name` of the folder `dir_fd` (never through a link) to the service user."""
    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        hand_over(fd)
    finally:
        os.close(fd)
