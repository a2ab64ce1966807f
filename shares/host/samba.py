"""Our include file for smb.conf: rendered from share specs, checked with testparm, swapped in atomically, reloaded.

We never edit the host's smb.conf beyond one line, `include = <our file>`, added once at its end. testparm checks the
whole configuration as it would be (the host's file with our line pointing at the candidate), so a file Samba would
refuse never becomes the live one: the old file stays, and testparm's words go back to the caller.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from storage.host.command import run
from storage.host.errors import CommandFailed, HostError

HEADER = "# Written by CasaOS from its database; edits here are replaced at the next change. Shares page: /shares/\n"
# Values must stay one plain line: no line break or control character, no `%` (Samba expands macros), no `\` (a line
# continuation at the end of a value), no surrounding space (Samba trims it: the value would change meaning).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f%\\]")
# Samba reads the masks as octal; owner and group read and write, others read (directories: and enter).
CREATE_MASK, FORCE_CREATE = "0664", "0660"
DIRECTORY_MASK, FORCE_DIRECTORY = "0775", "0770"


class SambaRefused(HostError):
    """testparm refused the configuration; `stderr` holds Samba's own message."""


@dataclass(frozen=True)
class ShareSpec:
    """One share as it goes into smb.conf; user names are the Unix accounts of our users (shares/accounts.py)."""

    name: str
    path: str
    readers: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()
    guest: bool = False
    browseable: bool = True
    recycle: bool = False
    comment: str = ""
    extra: dict[str, str] = field(default_factory=dict)  # tests only: a parameter Samba refuses


def safe_value(value: str) -> str:
    """`value` if it can stand as one smb.conf value; HostError otherwise (the caller's checks missed it)."""
    if _UNSAFE.search(value) or value != value.strip():
        raise HostError(f"unsafe value for smb.conf: {value!r}")
    return value


def _section_name(name: str) -> str:
    if not name or any(c in name for c in "[]") or name.lower() in ("global", "homes", "printers"):
        raise HostError(f"unsafe share name for smb.conf: {name!r}")
    return safe_value(name)


def _access_lines(spec: ShareSpec) -> list[tuple[str, str]]:
    users = sorted({*spec.readers, *spec.writers})
    lines = [("read only", "yes")]
    if spec.guest:
        # Everyone may read, the guest too (Samba's "map to guest = bad user"); only the writers may write.
        lines += [("guest ok", "yes")]
    else:
        lines.append(("guest ok", "no"))
        # A share nobody was given stays listed in our page but is closed to everyone.
        lines.append(("valid users", " ".join(users)) if users else ("available", "no"))
        if spec.readers:
            lines.append(("read list", " ".join(sorted(spec.readers))))
    if spec.writers:
        lines.append(("write list", " ".join(sorted(spec.writers))))
    return lines


def _recycle_lines() -> list[tuple[str, str]]:
    # Deleted files move to .recycle/<user name> inside the share, folders kept, older copies numbered.
    return [
        ("vfs objects", "recycle"),
        ("recycle:repository", ".recycle/%U"),
        ("recycle:keeptree", "yes"),
        ("recycle:versions", "yes"),
        ("recycle:touch", "yes"),
        ("recycle:directory_mode", "0770"),
    ]


def _share_lines(spec: ShareSpec, *, user: str, group: str) -> list[tuple[str, str]]:
    lines = [("path", safe_value(spec.path))]
    if spec.comment:
        lines.append(("comment", safe_value(spec.comment)))
    lines += [("browseable", "yes" if spec.browseable else "no"), *_access_lines(spec)]
    # Links inside the share are followed only while they stay inside it (Samba's default, said out loud).
    lines += [("follow symlinks", "yes"), ("wide links", "no")]
    lines += [("force user", safe_value(user)), ("force group", safe_value(group))]
    lines += [("create mask", CREATE_MASK), ("force create mode", FORCE_CREATE)]
    lines += [("directory mask", DIRECTORY_MASK), ("force directory mode", FORCE_DIRECTORY)]
    if spec.recycle:
        lines += _recycle_lines()
    return lines + [(key, safe_value(value)) for key, value in spec.extra.items()]


def render(specs: Sequence[ShareSpec], *, user: str, group: str) -> str:
    """The include file: one section per share, in the order given."""
    out = [HEADER]
    for spec in specs:
        out.append(f"\n[{_section_name(spec.name)}]\n")
        out += [f"   {key} = {value}\n" for key, value in _share_lines(spec, user=user, group=group)]
    return "".join(out)


# ---------------------------------------------------------------------------- the host's smb.conf
def include_line(include: Path) -> str:
    return f"include = {safe_value(str(include))}"


def has_include(conf_text: str, include: Path) -> bool:
    wanted = include_line(include).replace(" ", "")
    return any(line.replace(" ", "").replace("\t", "") == wanted for line in conf_text.splitlines())


def include_ensure(*, conf: Path, include: Path) -> bool:
    """Add our one `include =` line at the end of the host's smb.conf if it is not there; True when added."""
    text = conf.read_text() if conf.exists() else "[global]\n"
    if has_include(text, include):
        return False
    addition = (
        "" if text.endswith("\n") else "\n"
    ) + f"\n# CasaOS shares (one line, added once)\n{include_line(include)}\n"
    write_atomic(conf, text + addition, mode=0o644)
    return True


def _candidate_conf(conf: Path, include: Path, candidate: Path) -> str:
    """The host's smb.conf with our include line pointing at the candidate (added if missing)."""
    text = conf.read_text() if conf.exists() else "[global]\n"
    lines = [include_line(candidate) if has_include(line, include) else line for line in text.splitlines()]
    if not has_include(text, include):
        lines.append(include_line(candidate))
    return "\n".join(lines) + "\n"


def check(*, conf: Path, include: Path, text: str) -> None:
    """testparm over the whole configuration as it would be with `text` as our file; SambaRefused with its words."""
    with tempfile.TemporaryDirectory(prefix=".casaos-testparm-", dir=include.parent) as scratch:
        candidate = Path(scratch) / "shares.conf"
        candidate.write_text(text)
        whole = Path(scratch) / "smb.conf"
        whole.write_text(_candidate_conf(conf, include, candidate))
        try:
            run(["testparm", "-s", "--suppress-prompt", str(whole)], timeout=30)
        except CommandFailed as exc:
            words = exc.stderr.replace(str(candidate), str(include)).replace(str(whole), str(conf))
            raise SambaRefused("Samba refused the configuration", argv=exc.argv, stderr=_essence(words)) from None


def _essence(words: str) -> str:
    """testparm's refusal without its chatter (which files it loaded, the server role)."""
    chatter = ("Load smb config files from", "Loaded services file", "Weak crypto", "Server role")
    kept = [line for line in words.splitlines() if line.strip() and not line.startswith(chatter)]
    return "\n".join(kept) or words


def install(*, include: Path, text: str) -> None:
    """Replace the live include file atomically (readers see the old one or the new one, never half)."""
    write_atomic(include, text, mode=0o644)


def write_atomic(path: Path, text: str, *, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        temp.chmod(mode)
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def locked(include: Path) -> Iterator[None]:
    """One apply at a time on this host (two workers, or a worker and a command, would interleave files)."""
    include.parent.mkdir(parents=True, exist_ok=True)
    with (include.parent / f".{include.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# ---------------------------------------------------------------------------- telling smbd
def parameter(*, conf: Path, name: str) -> str:
    """One global parameter's value as Samba reads the configuration (defaults included)."""
    out = run(["testparm", "-s", "--suppress-prompt", f"--parameter-name={name}", str(conf)], timeout=30)
    return out.strip()


def reload(*, conf: Path) -> str:
    """Tell smbd to read its configuration again: smbcontrol, else SIGHUP to the pid in its pid file.
    Returns how ("smbcontrol", "signal"), or "" when no smbd runs (it reads the file when it starts)."""
    try:
        run(["smbcontrol", f"--configfile={conf}", "smbd", "reload-config"], timeout=30)
    except HostError:
        return _hangup(conf)
    return "smbcontrol"


def _hangup(conf: Path) -> str:
    pid = smbd_pid(conf=conf)
    if pid is None:
        return ""
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        return ""
    return "signal"


def smbd_pid(*, conf: Path) -> int | None:
    """The running smbd's pid from its pid file, or None."""
    try:
        piddir = Path(parameter(conf=conf, name="pid directory"))
        pid = int((piddir / "smbd.pid").read_text().split()[0])
    except (HostError, OSError, ValueError, IndexError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None
