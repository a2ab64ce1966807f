"""Backups: where they go (Repository), what and when (BackupJob), what each run did (JobRun), what restic holds
(Snapshot, a cache of `restic snapshots` that the page and the API list)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from casaos_site.credentials import EncryptedTextField


class Repository(models.Model):
    """A restic repository: its target, its password (encrypted at rest, shown once) and its check schedule."""

    class Kind(models.TextChoices):
        LOCAL = "local", _("Local or mounted disk")
        SFTP = "sftp", _("SFTP server")
        S3 = "s3", _("S3-compatible storage")
        REST = "rest", _("REST server")
        RCLONE = "rclone", _("Cloud drive or remote")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("target"), max_length=8, choices=Kind.choices, default=Kind.LOCAL)
    # A path (local), host + path (sftp), an endpoint/bucket URL (s3, rest), a folder inside `remote` (rclone);
    # no secret in it. An rclone row without a remote names rclone's own configuration: only `manage.py restore`
    # makes those, on a fresh install that has no remotes yet (docs/backups.md).
    location = models.CharField(_("location"), max_length=500)
    # rclone: a remote of the Remotes page, reached with a config built from its stored settings for each command.
    # PROTECT: deleting the remote would drop the credentials the backups are read with (remotes refuses it).
    remote = models.ForeignKey(
        "remotes.Remote",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="backup_repositories",
        verbose_name=_("remote"),
    )
    username = models.CharField(_("user name"), max_length=200, blank=True)  # sftp, rest; s3: the access key id
    port = models.PositiveIntegerField(_("port"), null=True, blank=True)  # sftp
    password = EncryptedTextField(_("repository password"))
    # What the target wants besides: the S3 secret key, the REST password, the SFTP private key.
    secret = EncryptedTextField(_("target secret"), null=True, blank=True)
    password_shown = models.BooleanField(_("password shown"), default=False)
    # The one repository an app's data goes to before each of its updates (none chosen: updates take no snapshot).
    for_updates = models.BooleanField(_("snapshots before app updates"), default=False)
    check_schedule = models.CharField(_("check and prune schedule"), max_length=100, default="30 3 * * 0", blank=True)
    last_check_at = models.DateTimeField(_("last check"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    size = models.BigIntegerField(_("size on the target"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["for_updates"], condition=models.Q(for_updates=True), name="backups_one_repository_for_updates"
            )
        ]
        verbose_name = _("backup repository")
        verbose_name_plural = _("backup repositories")

    def __str__(self) -> str:
        return self.name


class BackupJob(models.Model):
    """What is backed up together (the system, apps with their data, folders), when, and what is kept."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    repository = models.ForeignKey(Repository, on_delete=models.PROTECT, related_name="jobs")
    include_system = models.BooleanField(_("the system"), default=True)
    apps = models.JSONField(_("apps"), default=list, blank=True)  # app names
    folders = models.JSONField(_("folders"), default=list, blank=True)  # the file manager's view paths
    schedule = models.CharField(_("schedule (cron)"), max_length=100, blank=True)  # empty: run by hand only
    keep_last = models.PositiveIntegerField(_("keep last"), default=7)
    keep_daily = models.PositiveIntegerField(_("keep daily"), default=7)
    keep_weekly = models.PositiveIntegerField(_("keep weekly"), default=4)
    keep_monthly = models.PositiveIntegerField(_("keep monthly"), default=6)
    enabled = models.BooleanField(_("enabled"), default=True)
    last_due_at = models.DateTimeField(_("last scheduled run"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("backup job")

    def __str__(self) -> str:
        return self.name

    @property
    def keep(self) -> dict[str, int]:
        return {
            "last": self.keep_last,
            "daily": self.keep_daily,
            "weekly": self.keep_weekly,
            "monthly": self.keep_monthly,
        }


class JobRun(models.Model):
    """One backup, restore, check or prune: its state while it runs and its result once it ended."""

    class Kind(models.TextChoices):
        BACKUP = "backup", _("Backup")
        RESTORE = "restore", _("Restore")
        CHECK = "check", _("Check and prune")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.BACKUP)
    job = models.ForeignKey(BackupJob, null=True, blank=True, on_delete=models.CASCADE, related_name="runs")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    step = models.CharField(_("step"), max_length=255, blank=True)
    progress = models.JSONField(_("progress"), default=dict, blank=True)  # percent, bytes, files, speed
    details = models.JSONField(_("details"), default=dict, blank=True)  # what a restore was asked to do
    size = models.BigIntegerField(_("bytes added"), default=0)
    total_bytes = models.BigIntegerField(_("bytes backed up"), default=0)
    files = models.PositiveIntegerField(_("files"), default=0)
    downtime = models.JSONField(_("app downtime (seconds)"), default=dict, blank=True)
    snapshots = models.JSONField(_("snapshots made"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"

    @property
    def duration(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class Snapshot(models.Model):
    """A snapshot of a repository: one item (the system, one app, one folder) of one run."""

    class Kind(models.TextChoices):
        SYSTEM = "system", _("The system")
        APP = "app", _("App")
        FOLDER = "folder", _("Folder")

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="snapshots")
    restic_id = models.CharField(max_length=64)
    short_id = models.CharField(max_length=16)
    time = models.DateTimeField(_("time"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    subject = models.CharField(_("what"), max_length=500, blank=True)  # the app's name, the folder's view path
    paths = models.JSONField(default=list)
    tags = models.JSONField(default=list)
    job = models.ForeignKey(BackupJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots")
    size = models.BigIntegerField(_("bytes added"), null=True, blank=True)

    class Meta:
        ordering = ["-time"]
        constraints = [models.UniqueConstraint(fields=["repository", "restic_id"], name="backups_snapshot_unique")]

    def __str__(self) -> str:
        return f"{self.short_id} {self.kind} {self.subject}"
