"""Unix accounts for Samba and its password database (passdb): who may log in to a share.

Samba authenticates a Unix account. Each of our users gets a system account of its own (no home, no login shell,
marked in its comment as ours: `casaos user <our id>`), in the service user's group. We only ever change or remove an
account that carries our mark. Passwords go to Samba's passdb on smbpasswd's stdin, never on a command line.
"""

from __future__ import annotations

import contextlib
import grp
import pwd
from pathlib import Path

from storage.host.command import run
from storage.host.errors import CommandFailed, HostError

NOLOGIN = "/usr/sbin/nologin"
MARK = "casaos user "


def account_mark(user_id: int) -> str:
    return f"{MARK}{user_id}"


def account_owner(name: str) -> str | None:
    """The comment of the Unix account `name` (our mark or another), None when there is no such account."""
    try:
        return pwd.getpwnam(name).pw_gecos
    except KeyError:
        return None


def service_user_ensure(name: str) -> tuple[int, int]:
    """The service user (and its group, of the same name), made with `useradd --system` when missing."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", NOLOGIN, "--comment", "CasaOS shares", "--", name])  # fmt: skip
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def account_ensure(*, name: str, user_id: int, group: str) -> None:
    """Our user's Unix account: made if missing; an account of that name that is not ours is refused."""
    owner = account_owner(name)
    if owner == account_mark(user_id):
        return
    if owner is not None:
        raise HostError(f"the Unix account {name!r} exists and is not ours")
    grp.getgrnam(group)  # KeyError early: the service group comes first
    run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", NOLOGIN,
         "--no-user-group", "--gid", group, "--comment", account_mark(user_id), "--", name])  # fmt: skip


def account_remove(*, name: str, user_id: int, conf: Path) -> None:
    """Remove the passdb entry and the Unix account, only if the account carries our mark for this user."""
    if account_owner(name) != account_mark(user_id):
        return
    with contextlib.suppress(CommandFailed):  # no passdb entry (no password was ever set): nothing to remove there
        run(["smbpasswd", "-c", str(conf), "-x", "--", name])  # --: a name is never read as an option
    run(["userdel", "--", name])


def password_set(*, name: str, password: str, conf: Path) -> None:
    """Set (or add) the account's SMB password in Samba's passdb; the password goes on stdin, twice, as asked."""
    if "\n" in password or "\r" in password or "\x00" in password:
        raise HostError("a password cannot contain a line break or NUL")
    run(["smbpasswd", "-c", str(conf), "-s", "-a", "--", name], stdin=f"{password}\n{password}\n", timeout=30)


def passdb_enable(*, name: str, conf: Path, enabled: bool) -> None:
    """Enable or disable the passdb entry (a user disabled in our app may not log in to a share)."""
    run(["smbpasswd", "-c", str(conf), "-e" if enabled else "-d", "--", name], timeout=30)


def passdb_has(*, name: str, conf: Path) -> bool:
    """Whether the passdb has an entry for the account (a password was set)."""
    try:
        run(["pdbedit", f"--configfile={conf}", "-u", name], timeout=30)
    except CommandFailed:
        return False
    return True
