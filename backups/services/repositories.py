"""Repositories: create (a generated password, or the one of an existing repository), show the password once,
delete; and the snapshot cache kept in step with what restic holds."""

import base64
import json
import re
import secrets
from datetime import datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.services import audit_record

from ..host import restic as R
from ..models import BackupJob, Repository, Snapshot
from ..targets import credentials_check, location_check, opened

FRACTION = re.compile(r"(\.\d+)")  # a fraction of a second
PASSWORD_GROUPS = 8  # 8 groups of 5 base32 characters: 200 bits, written down in a minute


class RepositoryError(Exception):
    """A repository cannot be made, opened or changed; the message says why in words."""


def password_generate() -> str:
    """A strong password that survives being printed and typed again: XXXXX-XXXXX-… in base32."""
    text = base64.b32encode(secrets.token_bytes(PASSWORD_GROUPS * 5 * 5 // 8)).decode().rstrip("=")
    return "-".join(text[i : i + 5] for i in range(0, PASSWORD_GROUPS * 5, 5))


def repository_create(
    *,
    user,
    name: str,
    kind: str,
    location: str,
    username: str = "",
    port: int | None = None,
    secret: str = "",
    password: str = "",
    remote: int | None = None,
    request=None,
) -> Repository:
    """Connect a target: a new repository (generated password, shown once) or an existing one (its password).
    `remote`: the id of a remote of the Remotes page the user may use (kind rclone; `location` is a folder in it)."""
    found = _remote_for(user=user, kind=kind, remote=remote)
    location = location_check(kind=kind, location=location, username=username, in_remote=True)
    credentials_check(kind=kind, username=username, secret=secret)
    if Repository.objects.filter(name=name).exists():
        raise ValidationError(_("A repository with this name exists."))
    repo = Repository(name=name, kind=kind, location=location, username=username, port=port, secret=secret or None)
    repo.remote = found
    repo.password = password or password_generate()
    repo.password_shown = bool(password)  # a password the admin gave is theirs already: nothing to show
    _open_or_init(repo, existing=bool(password))
    repo.save()
    details = {"kind": kind, **({"remote": found.name} if found else {})}
    audit_record(actor=user, action="backups.repository.create", request=request, target=name, details=details)
    return repo


def _remote_for(*, user, kind: str, remote: int | None):
    """The remote an rclone repository is kept on: one of those rclone serves that this user may use."""
    from remotes.selectors import remotes_rclone_serves

    if kind != Repository.Kind.RCLONE:
        if remote is not None:
            raise ValidationError(_("Only a repository on a cloud drive or remote takes a remote."))
        return None
    if remote is None:
        raise ValidationError(_("Choose the remote (Remotes page) to keep the backups on."))
    found = remotes_rclone_serves(user=user).filter(pk=remote).first()
    if found is None:
        raise ValidationError(_("There is no remote %(id)s that you can keep backups on.") % {"id": remote})
    return found


def _open_or_init(repo: Repository, *, existing: bool) -> None:
    if repo.kind == Repository.Kind.LOCAL:
        _local_folder(repo.location)
    try:
        with opened(repo) as target:
            found = R.is_initialised(target)
            if existing and not found:
                raise RepositoryError(_("There is no repository at this location."))
            if not found:
                R.init(target)
    except R.ResticError as exc:  # opening it too: a remote not authorised yet
        raise RepositoryError(str(exc)) from None


def _local_folder(location: str) -> None:
    try:
        Path(location).mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise RepositoryError(_("The folder cannot be made: %(error)s") % {"error": exc.strerror}) from None


def repository_password_reveal(*, user, repository: Repository, request=None) -> str | None:
    """The password, the first time only (the recovery sheet); None ever after."""
    with transaction.atomic():
        shown = (
            Repository.objects.select_for_update()
            .filter(pk=repository.pk, password_shown=False)
            .update(password_shown=True)
        )
    if not shown:
        return None
    audit_record(actor=user, action="backups.repository.password_shown", request=request, target=repository.name)
    return repository.password


def repository_delete(*, user, repository: Repository, request=None) -> None:
    """Forget the repository here (its data on the target stays: it can be connected again with its password)."""
    if repository.jobs.exists():
        raise RepositoryError(_("Jobs still back up to this repository: delete them first."))
    name = repository.name
    repository.delete()
    audit_record(actor=user, action="backups.repository.delete", request=request, target=name)


def snapshots_sync(*, repository: Repository) -> list[Snapshot]:
    """Make the snapshot rows what restic lists now (rows of forgotten snapshots go, new ones come)."""
    with opened(repository) as target:
        listed = R.snapshots(target, tags=["casaos"])
    known = {s.short_id: s for s in repository.snapshots.all()}  # a run's own rows carry restic's short id
    for snap in listed:
        if snap.short_id not in known:
            _snapshot_row(repository, snap)
    repository.snapshots.exclude(short_id__in=[s.short_id for s in listed]).delete()
    return list(repository.snapshots.all())


def _snapshot_row(repository: Repository, snap: R.Snapshot) -> Snapshot:
    kind, subject, job_id = _from_tags(snap.tags)
    job = BackupJob.objects.filter(pk=job_id).first() if job_id else None
    return Snapshot.objects.create(
        repository=repository,
        restic_id=snap.id,
        short_id=snap.short_id,
        time=datetime.fromisoformat(_iso(snap.time)),
        kind=kind,
        subject=subject,
        paths=list(snap.paths),
        tags=list(snap.tags),
        job=job,
    )


def _iso(value: str) -> str:
    """restic's RFC 3339 time (nanoseconds, "Z" or an offset) as fromisoformat takes it (microseconds)."""
    return FRACTION.sub(lambda m: m.group(1)[:7], value.replace("Z", "+00:00"))


def _from_tags(tags) -> tuple[str, str, int | None]:
    """Our tags: `casaos`, `kind:<system|app|folder>`, `subject:<json string>`, `job:<id>`."""
    values = dict(tag.split(":", 1) for tag in tags if ":" in tag)
    subject = values.get("subject", "")
    try:
        subject = json.loads(base64.urlsafe_b64decode(subject.encode()).decode()) if subject else ""
    except ValueError:
        subject = ""
    job = values.get("job", "")
    return values.get("kind", Snapshot.Kind.FOLDER), str(subject), int(job) if job.isdigit() else None


def tags_for(*, kind: str, subject: str, job_id: int | None) -> list[str]:
    """The tags of an item's snapshot (restic splits tags on commas: the subject travels encoded)."""
    encoded = base64.urlsafe_b64encode(json.dumps(subject).encode()).decode()
    tags = ["casaos", f"kind:{kind}", f"subject:{encoded}"]
    return [*tags, f"job:{job_id}"] if job_id else tags
