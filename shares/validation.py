"""What a share may be called and where it may point: every value that reaches smb.conf is checked here first."""

from __future__ import annotations

import os
import pwd
import re
import stat
import unicodedata
from pathlib import Path
from types import SimpleNamespace

from casaos_site.i18n import deferred, shown
from files.paths import PathError, Target, resolve

NAME_MAX = 80  # what Windows and macOS show without trouble (NetBIOS-era clients stop earlier, at 12)
# Letters of any script, digits, space, dot, dash and underscore; nothing smb.conf or a client reads specially
# (no [ ] = % \ / : ; , " < > | * ? + and no line break).
_NAME = re.compile(r"[\w][\w .-]*")
RESERVED_NAMES = {"global", "homes", "printers", "print$", "ipc$"}
# Samba expands %-macros in values and reads a trailing backslash as a continued line: never in a share's path.
_PATH_UNSAFE = re.compile(r"[\x00-\x1f\x7f%\\]")
# The folder is resolved as an admin's Files view names it (the files root, "@<disk>/..." for a disk or pool).
ADMIN_VIEW = SimpleNamespace(is_admin=True)


class ShareRefused(Exception):
    """A share setting we will not take, and why; `field` names the input, `status` is its 4xx."""

    def __init__(self, message: str, *, field: str = "", status: int = 400) -> None:
        self.stored = message  # a deferred() id: what a task records, shown in each reader's words
        self.message = shown(message)
        super().__init__(self.message)
        self.field = field
        self.status = status


def check_samba_ready(conf: Path) -> None:
    """Samba is installed and configured here (its smb.conf exists): nothing is made on the host before that."""
    if not conf.exists():
        message = deferred(
            "Samba is not set up on this machine (no %(conf)s): install samba (make run does).", conf=str(conf)
        )
        raise ShareRefused(message, status=503)


def check_share_name(name: str) -> str:
    """A share name: 1 to 80 letters, digits, spaces, dots, dashes or underscores, not a name Samba reserves."""
    name = unicodedata.normalize("NFC", name or "")
    if not name.strip():
        raise ShareRefused(deferred("A share needs a name."), field="name")
    if len(name) > NAME_MAX or not _NAME.fullmatch(name) or name != name.strip():
        message = deferred(
            "A share name is up to %(max)d letters, digits, spaces, dots, dashes or underscores, starting with a "
            "letter or digit.",
            max=NAME_MAX,
        )
        raise ShareRefused(message, field="name")
    if name.lower() in RESERVED_NAMES:
        raise ShareRefused(deferred("“%(name)s” is a name Samba keeps for itself.", name=name), field="name")
    return name


def share_folder(place: str) -> Target:
    """The folder `place` (an admin's view path), checked by the file manager's resolver (inside a root, no parent
    reference, no link leading out, not our own data, a disk only while mounted), its path safe for smb.conf."""
    try:
        target = resolve(ADMIN_VIEW, place or "")
        kind = target.kind()
    except PathError as exc:
        raise ShareRefused(exc.stored, field="place", status=exc.status) from None
    if kind is None:
        raise ShareRefused(deferred("No such folder."), field="place", status=404)
    if kind != stat.S_IFDIR:
        raise ShareRefused(deferred("Choose a folder, not a file."), field="place")
    real = str(target.real)
    if _PATH_UNSAFE.search(real) or real != real.strip():
        message = deferred(
            "Samba cannot share a folder whose path holds a percent sign, a backslash, a line break or a space at either end: "
            "rename it first."
        )
        raise ShareRefused(message, field="place")
    return target


def _enterable(st: os.stat_result, uid: int, gids: set[int]) -> bool:
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid in gids:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def check_reachable(real: Path, *, user: str) -> None:
    """Samba works in the share as the service user: every folder on the way must let that user in (a files root
    inside the data folder, mode 0700, does not; docs/shares.md)."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return
    gids = {entry.pw_gid, *os.getgrouplist(user, entry.pw_gid)}
    for folder in (*reversed(real.parents), real):
        if not _enterable(folder.stat(), entry.pw_uid, gids):
            message = deferred(
                "Samba acts as the user %(user)s, who may not enter %(folder)s: share a disk, or keep the files root "
                "outside the data folder (CASAOS_FILES_ROOT).",
                user=user,
                folder=str(folder),
            )
            raise ShareRefused(message, field="place", status=409)
