"""Add, mount, unmount and remove remotes; mount them again at start and whenever one dies or its server returns.

Every secret stays in `Remote.secrets` (encrypted) and in files of mode 0600 under REMOTES_CONFIG_DIR while mounted.
Messages shown or stored pass through `scrub()`, which blanks any secret a tool might have echoed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import router, transaction
from django.db.models.deletion import Collector, ProtectedError
from django.utils import timezone

from accounts.services.audit import audit_record
from casaos_site.events import publish
from casaos_site.i18n import deferred
from storage.host.errors import HostError

from .backends import RemoteRefused, backend, check_required, clean, config_section, place
from .host import kernel, rclone
from .models import Remote

log = logging.getLogger(__name__)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,47}$")
HIDDEN = "•••"


# ---------------------------------------------------------------------------- secrets and files
def secrets_of(remote: Remote) -> dict[str, str]:
    return json.loads(remote.secrets or "{}")


def scrub(text: str, remote: Remote) -> str:
    """A tool's message with every secret of the remote blanked (a URL or an error may echo one)."""
    for value in secrets_of(remote).values():
        if value and len(value) >= 3:
            text = text.replace(value, HIDDEN)
    return text


def config_dir() -> Path:
    return Path(settings.REMOTES_CONFIG_DIR)


def _files(remote: Remote) -> dict[str, Path]:
    base = config_dir()
    return {
        "config": base / f"{remote.pk}.conf",
        "credentials": base / f"{remote.pk}.cred",
        "log": base / f"{remote.pk}.log",
    }


def devname(remote: Remote) -> str:
    """The source /proc/self/mountinfo names for the remote's rclone mount (what a root is checked against)."""
    return f"casaos-remote-{remote.pk}"


def rclone_remote(remote: Remote, path: str = "", *, config_path: Path | None = None) -> rclone.RcloneRemote:
    """Its config file written afresh (0600; the mount's own unless another path is given), passwords obscured
    through stdin."""
    section = config_section(remote.kind, remote.options, secrets_of(remote), _obscure)
    spec = "/".join(filter(None, (place(remote.kind, remote.options), path.strip("/"))))
    found = rclone.RcloneRemote(config=section, config_path=config_path or _files(remote)["config"], path=spec)
    rclone.write_config(found)
    return found


@contextlib.contextmanager
def rclone_for_run(remote: Remote, path: str = "") -> Iterator[rclone.RcloneRemote]:
    """The remote for one command of another app (restic for a backup): a config of its own, 0600 in our 0700
    folder, removed when the block ends. Never the mount's file: rclone writes a refreshed OAuth token back into
    the file it read, and two processes rewriting one file would lose each other's."""
    if remote.kind == Remote.Kind.NFS:
        raise RemoteRefused(deferred("An NFS export is reached through its mount only, not through rclone."))
    if backend(remote.kind).oauth and not secrets_of(remote).get("token"):
        raise RemoteRefused(deferred("Authorise access to “%(name)s” first (Remotes page).", name=remote.name))
    config = config_dir() / f"run-{remote.pk}-{uuid.uuid4().hex}.conf"
    try:
        yield rclone_remote(remote, path, config_path=config)
    finally:
        config.unlink(missing_ok=True)


def _obscure(secret: str) -> str:
    return rclone.obscure(secret, settings.REMOTES_RCLONE)


def _forget_files(remote: Remote) -> None:
    for path in _files(remote).values():
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- which client mounts it
def uses_kernel(remote: Remote) -> bool:
    """SMB through the kernel's cifs where it has one (else rclone's SMB backend); NFS only through the kernel."""
    if remote.kind == Remote.Kind.NFS:
        return True
    return remote.kind == Remote.Kind.SMB and kernel.has_client("cifs")


def kernel_argv(remote: Remote) -> list[str]:
    """The kernel mount command (a credentials file of 0600 carries an SMB password)."""
    opts = remote.options
    if remote.kind == Remote.Kind.NFS:
        if not kernel.has_client("nfs"):
            raise RemoteRefused(
                deferred(
                    "This machine cannot mount NFS exports: its kernel has no NFS client, or the nfs-common "
                    "package is not installed (install it to use NFS; it also runs rpcbind)."
                ),
                code="no-nfs",
            )
        return kernel.nfs_argv(host=opts["host"], export=opts["export"], target=remote.target)
    credentials = _files(remote)["credentials"]
    share = "/".join(filter(None, (opts["share"], opts.get("path", ""))))
    return kernel.cifs_argv(host=opts["host"], share=share, target=remote.target, credentials=str(credentials),
                            port=int(opts.get("port") or 445))  # fmt: skip


def _write_cifs_credentials(remote: Remote) -> None:
    opts = remote.options
    text = kernel.cifs_credentials(user=opts.get("user", "guest"), password=secrets_of(remote).get("pass", ""),
                                   domain=opts.get("domain", ""))  # fmt: skip
    kernel.write_credentials(_files(remote)["credentials"], text)


def source(remote: Remote) -> str:
    """What must be mounted at the remote's folder for it to count as mounted (read on every open of its root)."""
    opts = remote.options
    if remote.kind == Remote.Kind.NFS:
        return f"{opts.get('host', '')}:/{opts.get('export', '').strip('/')}"
    if uses_kernel(remote):
        return "//" + "/".join(filter(None, (opts.get("host", ""), opts.get("share", ""), opts.get("path", ""))))
    return devname(remote)


def _attach(remote: Remote) -> None:
    seconds = settings.REMOTES_CONNECT_TIMEOUT
    if uses_kernel(remote):
        argv = kernel_argv(remote)
        if remote.kind == Remote.Kind.SMB:
            _write_cifs_credentials(remote)
        kernel.mount(argv, target=remote.target, seconds=seconds)
        return
    found = rclone_remote(remote)
    rclone.probe(found, seconds=seconds, rclone=settings.REMOTES_RCLONE)
    cache = Path(settings.REMOTES_CACHE_DIR) / str(remote.pk)
    files = _files(remote)
    rclone.mount(found, target=remote.target, devname=devname(remote), cache_dir=str(cache),
                 log_file=str(files["log"]), rclone=settings.REMOTES_RCLONE)  # fmt: skip


def in_mount_table(target: str) -> bool:
    """Whether the kernel lists a mount at target (os.path.ismount says no for a dead FUSE mount: its stat fails)."""
    point = os.fsencode(_real(target))
    with Path("/proc/self/mountinfo").open("rb") as table:
        return any(_unescape(line.split(b" ")[4]) == point for line in table)


def _unescape(field: bytes) -> bytes:
    for code in (b"\\040", b"\\011", b"\\012", b"\\134"):
        field = field.replace(code, bytes([int(code[1:], 8)]))
    return field


def _detach(remote: Remote) -> None:
    if not in_mount_table(remote.target):
        return
    if uses_kernel(remote):
        kernel.unmount(remote.target)
    elif not rclone.alive(remote.target):
        rclone.unmount_dead(remote.target)
    else:
        rclone.unmount(remote.target)


def is_mounted(remote: Remote) -> bool:
    """Mounted at its folder, by what we mounted there, and answering (a dead rclone daemon leaves ENOTCONN)."""
    from files.roots import mount_of

    try:
        fd = os.open(remote.target, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        found = mount_of(fd)
    finally:
        os.close(fd)
    ours = found == (os.fsencode(_real(remote.target)), os.fsencode(source(remote)))
    return ours and rclone.alive(remote.target)


def _real(target: str) -> str:
    path = Path(target)
    return str(Path(os.path.realpath(path.parent)) / path.name)


# ---------------------------------------------------------------------------- state
def _set_state(remote: Remote, state: str, message: str = "") -> Remote:
    remote.state, remote.message, remote.checked_at = state, scrub(message, remote), timezone.now()
    remote.save(update_fields=["state", "message", "checked_at"])
    publish(
        settings.REMOTES_GROUP, "remotes.state", {"id": remote.pk, "state": remote.state, "message": remote.message}
    )
    return remote


def _failure(remote: Remote, exc: Exception) -> tuple[str, str]:
    words = scrub(str(exc), remote)
    if isinstance(exc, HostError) and rclone.unreachable(exc):
        return Remote.State.MISSING, deferred("The server does not answer: %(error)s", error=words)
    return Remote.State.FAILED, deferred("The remote refused the connection: %(error)s", error=words)


def remote_connect(remote: Remote) -> Remote:
    """Mount the remote where it belongs (nothing is left mounted when it fails); the outcome is its state."""
    if is_mounted(remote):
        return _set_state(remote, Remote.State.MOUNTED)
    if backend(remote.kind).oauth and not secrets_of(remote).get("token"):
        return _set_state(remote, Remote.State.AUTHORIZING, deferred("Authorise access to the drive first."))
    try:
        _detach(remote)  # a dead daemon's mount, or one of a remote changed since
        _attach(remote)
    except RemoteRefused as exc:
        return _set_state(remote, Remote.State.FAILED, exc.stored)
    except (HostError, OSError) as exc:
        _cleanup_failed(remote)
        return _set_state(remote, *_failure(remote, exc))
    return _set_state(remote, Remote.State.MOUNTED)


def _cleanup_failed(remote: Remote) -> None:
    try:
        _detach(remote)
    except (HostError, OSError) as exc:
        log.warning("remotes: %s could not be unmounted after a failed mount: %s", remote.name, scrub(str(exc), remote))
    _remove_folder(remote.target)


def _remove_folder(target: str) -> None:
    with contextlib.suppress(OSError):
        Path(target).rmdir()  # only an empty folder of ours: a mount still there stays


# ---------------------------------------------------------------------------- the admin's acts
def check_name(name: str, *, exclude: int | None = None) -> str:
    """A folder name of our own, not a disk's, pool's or another remote's ("@name" names one root)."""
    from storage.models import Mount, Pool

    name = (name or "").strip()
    if not NAME.match(name) or name.endswith("."):
        raise RemoteRefused(deferred("A name is 1 to 48 letters, digits, spaces, dots, dashes or underscores."))
    taken = Remote.objects.filter(name=name).exclude(pk=exclude).exists()
    if taken or Mount.objects.filter(name=name).exists() or Pool.objects.filter(name=name).exists():
        raise RemoteRefused(deferred("A disk or remote is already called “%(name)s”.", name=name), code="taken",
                            status=409)  # fmt: skip
    return name


def _valid(kind: str, options: dict, secrets: dict) -> tuple[dict, dict]:
    spec = backend(kind)
    options = clean(kind, options or {}, spec.options)
    check_required(kind, options)
    return options, clean(kind, secrets or {}, spec.secrets)


def remote_create(*, user, kind: str, name: str, options: dict, secrets: dict, request=None) -> Remote:
    """Record and mount a remote; when the first mount fails nothing is kept and the reason is raised."""
    options, secrets = _valid(kind, options, secrets)
    name = check_name(name)
    with transaction.atomic():
        remote = Remote.objects.create(name=name, kind=kind, options=options, secrets=json.dumps(secrets),
                                       created_by=user)  # fmt: skip
    remote_connect(remote)
    if remote.state in (Remote.State.FAILED, Remote.State.MISSING):
        message = remote.message
        _forget(remote)
        raise RemoteRefused(message, code=f"mount-{remote.state}", status=422)
    audit_record(actor=user, action="remotes.create", request=request, target=name,
                 details={"kind": kind, "options": options, "secrets": sorted(secrets)})  # fmt: skip
    return remote


def remote_update(*, user, remote: Remote, name=None, options=None, secrets=None, request=None) -> Remote:
    """Change a remote (a secret left out is kept) and mount it again with its new settings."""
    was_mounted = in_mount_table(remote.target)
    new_secrets = {**secrets_of(remote), **(secrets or {})}
    new_options, new_secrets = _valid(remote.kind, remote.options if options is None else options, new_secrets)
    new_name = remote.name if name is None else check_name(name, exclude=remote.pk)
    _unmount(remote)
    remote.name, remote.options, remote.secrets = new_name, new_options, json.dumps(new_secrets)
    remote.save(update_fields=["name", "options", "secrets"])
    if was_mounted or remote.state != Remote.State.UNMOUNTED:
        remote_connect(remote)
    audit_record(actor=user, action="remotes.update", request=request, target=remote.name,
                 details={"options": new_options, "secrets_changed": sorted(secrets or {})})  # fmt: skip
    return remote


def _unmount(remote: Remote) -> None:
    try:
        _detach(remote)
    except HostError as exc:
        busy = "busy" in str(exc).lower()
        message = deferred(
            "%(name)s could not be unmounted: %(error)s", name=remote.name, error=scrub(str(exc), remote)
        )
        raise RemoteRefused(message, code="busy" if busy else "unmount-failed", status=409) from exc
    _remove_folder(remote.target)


def remote_mount(*, user, remote: Remote, request=None) -> Remote:
    remote_connect(remote)
    audit_record(actor=user, action="remotes.mount", request=request, target=remote.name,
                 details={"state": remote.state})  # fmt: skip
    return remote


def remote_unmount(*, user, remote: Remote, request=None) -> Remote:
    """Unmount it and keep it (it stays unmounted at start, until mounted again)."""
    _unmount(remote)
    _set_state(remote, Remote.State.UNMOUNTED)
    audit_record(actor=user, action="remotes.unmount", request=request, target=remote.name)
    return remote


def _forget(remote: Remote) -> None:
    _forget_files(remote)
    remote.delete()


def users_of(remote: Remote) -> list[str]:
    """What other apps keep on the remote and protect it for (a backup repository), named for a person; found
    through Django's own PROTECT rule, so this app needs to know none of them."""
    collector = Collector(using=router.db_for_write(Remote))
    try:
        collector.collect([remote])
    except ProtectedError as exc:
        return sorted(f"{obj._meta.verbose_name} “{obj}”" for obj in exc.protected_objects)
    return []


def remote_delete(*, user, remote: Remote, request=None) -> None:
    """Unmount it, drop its files (config, credentials) and its row; its grants lead nowhere from then on.
    Refused, with nothing changed, while another app keeps something on it (its credentials would go)."""
    users = users_of(remote)
    if users:
        message = deferred("“%(name)s” is still used by %(users)s: remove that first, then the remote.",
                           name=remote.name, users=", ".join(users))  # fmt: skip
        raise RemoteRefused(message, code="in-use", status=409)
    _unmount(remote)
    name = remote.name
    _forget(remote)
    audit_record(actor=user, action="remotes.delete", request=request, target=name)


# ---------------------------------------------------------------------------- at start and every minute
def remotes_reapply() -> dict[str, str]:
    """Mount again every remote that was mounted, missing or failed (nofail: a missing server is recorded)."""
    wanted = Remote.objects.exclude(state__in=[Remote.State.UNMOUNTED, Remote.State.AUTHORIZING])
    return {remote.name: remote_connect(remote).state for remote in wanted}


def remotes_watch() -> dict[str, str]:
    """Retry missing servers and mount again a remote whose daemon died (checked through the mount table)."""
    states = {}
    for remote in Remote.objects.filter(state__in=[Remote.State.MOUNTED, Remote.State.MISSING]):
        if remote.state == Remote.State.MISSING or not is_mounted(remote):
            states[remote.name] = remote_connect(remote).state
    return states
