"""A Repository row as restic opens it: the location in restic's words, the password, the target's credentials.

Secrets only ever reach the child's environment or a 0600 file that lives while the command runs (an SFTP key; the
rclone config of a remote of the Remotes page, built by that app from the remote's stored settings).
"""

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from storage.host.errors import HostError

from .host.restic import Repo, ResticError
from .models import Repository

K = Repository.Kind
# Host names, user names and remote names reach ssh's argv (through restic's sftp.command): plain words only.
WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$")
SFTP_LOCATION = re.compile(r"^(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9a-fA-F:]+\]):(?P<path>/?[^\s]*)$")
# A remote of rclone's own configuration (`manage.py restore` on a fresh install only): remote:path.
RCLONE_LOCATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_ -]*:[^\x00-\x1f\x7f]*$")


def location_check(*, kind: str, location: str, username: str = "", in_remote: bool = False) -> str:
    """The location, tidied, or a ValidationError that says what is wrong. `in_remote`: an rclone location is a
    folder inside a remote of the Remotes page (else rclone's own remote:path, for `manage.py restore`)."""
    location = location.strip()
    if kind == K.RCLONE and in_remote:
        return _folder_in_remote(location)
    checks = {K.LOCAL: _local, K.SFTP: _sftp, K.S3: _s3, K.REST: _url, K.RCLONE: _rclone}
    checks[kind](location)
    if username and not WORD.match(username):
        raise ValidationError(_("A user name has letters, digits, '.', '_' and '-' only."))
    return location


def _folder_in_remote(location: str) -> str:
    from remotes.backends import RemoteRefused, folder

    try:
        path = folder(location)
    except RemoteRefused as exc:
        raise ValidationError(exc.message) from None
    if not path:
        raise ValidationError(_("Give a folder inside the remote for the backups, e.g. backups/casaos."))
    return path


def credentials_check(*, kind: str, username: str, secret: str) -> None:
    """A ValidationError where the target cannot be opened with the credentials given (S3 takes both keys)."""
    if kind == K.S3 and not (username and secret):
        raise ValidationError(_("An S3 repository needs its access key id (as user name) and its secret key."))


def _local(location: str) -> None:
    path = Path(location)
    if not path.is_absolute() or ".." in path.parts:
        raise ValidationError(_("Give an absolute folder path, e.g. /media/Backup/casaos."))
    real = Path(os.path.realpath(path))
    if real.is_relative_to(Path(os.path.realpath(settings.DATA_DIR))) or real == Path("/"):
        raise ValidationError(_("A backup cannot be kept inside the data it protects."))


def _sftp(location: str) -> None:
    if not SFTP_LOCATION.match(location):
        raise ValidationError(_("Give host:/path, e.g. nas.local:/backups/casaos."))


def _url(location: str) -> None:
    parts = urlsplit(location)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise ValidationError(_("Give an http(s) address without a user name or password in it."))


def _s3(location: str) -> None:
    _url(location)
    if not urlsplit(location).path.strip("/"):  # restic reads the path's first part as the bucket
        raise ValidationError(_("Give the bucket after the address, e.g. https://s3.example.com/casaos-backups."))


def _rclone(location: str) -> None:
    if not RCLONE_LOCATION.match(location):
        raise ValidationError(_("Give remote:path, e.g. gdrive:backups."))


def restic_location(repo: Repository) -> str:
    """The location as restic takes it (RESTIC_REPOSITORY, never argv: a REST URL carries its password); a
    repository on a remote of the Remotes page is located by `_on_remote` instead."""
    if repo.kind == K.LOCAL:
        return repo.location
    if repo.kind == K.SFTP:
        return f"sftp:{repo.username}@{repo.location}" if repo.username else f"sftp:{repo.location}"
    if repo.kind == K.S3:
        return f"s3:{repo.location}"
    if repo.kind == K.REST:
        return f"rest:{_with_credentials(repo.location, repo.username, repo.secret or '')}"
    return f"rclone:{repo.location}"


def recovery_location(repo: Repository) -> str:
    """The location `manage.py restore --location` takes on a fresh install, where the Remotes page's remotes are not
    back yet: for a repository on a remote, REMOTE:<folder> of a remote the admin makes with `rclone config`."""
    if repo.kind != K.RCLONE or repo.remote is None:
        return repo.location
    from remotes.backends import place

    return "REMOTE:" + "/".join(filter(None, (place(repo.remote.kind, repo.remote.options), repo.location)))


def _with_credentials(url: str, user: str, password: str) -> str:
    if not user:
        return url
    parts = urlsplit(url)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.netloc}"
    return urlunsplit(parts._replace(netloc=netloc))


def _env(repo: Repository) -> dict[str, str]:
    if repo.kind == K.S3:
        return {"AWS_ACCESS_KEY_ID": repo.username, "AWS_SECRET_ACCESS_KEY": repo.secret or ""}
    return {}


def cache_dir() -> Path:
    path = Path(settings.DATA_DIR) / "backups" / "cache"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@dataclass(frozen=True)
class _Access:
    """How restic reaches a target: RESTIC_REPOSITORY, the child's environment, the `-o` options."""

    location: str
    env: dict[str, str] = field(default_factory=dict)
    options: tuple[str, ...] = ()


@contextlib.contextmanager
def opened(repo: Repository) -> Iterator[Repo]:
    """The repository as the host module takes it, for the length of the block (an SFTP key file, a remote's rclone
    config exist only then)."""
    with _access(repo) as access:
        yield Repo(
            location=access.location,
            password=repo.password,
            env=access.env,
            options=access.options,
            cache_dir=str(cache_dir()),
        )


@contextlib.contextmanager
def _access(repo: Repository) -> Iterator[_Access]:
    if repo.kind == K.SFTP:
        with _key_file(repo.secret or "") as key:
            yield _Access(restic_location(repo), options=(f"sftp.command={' '.join(_ssh_argv(repo, key))}",))
    elif repo.kind == K.RCLONE and repo.remote_id:
        with _on_remote(repo) as access:
            yield access
    elif repo.kind == K.RCLONE:
        yield _Access(restic_location(repo), options=_rclone_options())
    else:
        yield _Access(restic_location(repo), env=_env(repo))


@contextlib.contextmanager
def _on_remote(repo: Repository) -> Iterator[_Access]:
    """restic's rclone backend on a remote of the Remotes page: rclone reads the config that app builds for this
    command (RCLONE_CONFIG names it; the file holds the obscured password or the token and goes when we leave)."""
    from remotes.services import scrub

    with contextlib.ExitStack() as stack:
        found = _run_config(stack, repo)
        env = {"RCLONE_CONFIG": str(found.config_path)}
        try:
            yield _Access(f"rclone:{found.spec}", env=env, options=_rclone_options())
        except ResticError as exc:  # rclone's words reach a run's error and the page: none of the remote's secrets
            exc.reason, exc.stderr = scrub(exc.reason, repo.remote), scrub(exc.stderr, repo.remote)
            raise


def _run_config(stack: contextlib.ExitStack, repo: Repository):
    """The remote's config for this command, its failure in restic's terms (only the set-up's: what the block
    itself raises must pass untouched)."""
    from remotes.backends import RemoteRefused
    from remotes.services import rclone_for_run

    try:
        return stack.enter_context(rclone_for_run(repo.remote, repo.location))
    except RemoteRefused as exc:
        raise ResticError(exc.message, reason=exc.message) from None
    except HostError as exc:  # rclone could not obscure a password: not installed, or broken
        raise ResticError(str(exc), reason=_("the remote's rclone settings cannot be written")) from None


def _rclone_options() -> tuple[str, ...]:
    """The remotes app's rclone, given as long as that app gives a server to answer (restic's default waits a
    minute and more for one that is away)."""
    seconds = settings.REMOTES_CONNECT_TIMEOUT
    args = f"serve restic --stdio --b2-hard-delete --contimeout {seconds}s"
    return (f"rclone.program={settings.REMOTES_RCLONE}", f"rclone.args={args}")


def _ssh_argv(repo: Repository, key: str) -> list[str]:
    """ssh for restic's sftp.command: restic splits it on spaces, so every part is a plain word we made."""
    host = repo.location.split(":", 1)[0].strip("[]")
    known = Path(settings.DATA_DIR) / "backups" / "known_hosts"
    known.parent.mkdir(parents=True, exist_ok=True)
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "StrictHostKeyChecking=accept-new"]
    argv += ["-o", f"UserKnownHostsFile={known}", "-p", str(repo.port or 22)]
    argv += ["-i", key] if key else []
    argv += ["-l", repo.username] if repo.username else []
    return [*argv, "-s", "--", host, "sftp"]  # -s: "sftp" is the subsystem, not a command


@contextlib.contextmanager
def _key_file(key: str) -> Iterator[str]:
    if not key:
        yield ""
        return
    fd, path = tempfile.mkstemp(prefix="backup-key-")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (key.strip() + "\n").encode())
        os.close(fd)
        yield path
    finally:
        Path(path).unlink(missing_ok=True)
