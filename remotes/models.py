"""Network shares and cloud drives mounted here (Remote), and sync jobs between a remote folder and a local one."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casaos_site.credentials import EncryptedTextField


class Remote(models.Model):
    """Another machine's share or a cloud drive, mounted at <REMOTES_MOUNT_ROOT>/<name> and shown as a root "@name".

    `options` holds what may be shown (host, user, share, URL); `secrets` a JSON object of what may not (passwords,
    keys, tokens), encrypted at rest and never serialised, logged or put on a command line."""

    class Kind(models.TextChoices):
        SMB = "smb", _("SMB / Windows share")
        NFS = "nfs", _("NFS export")
        WEBDAV = "webdav", _("WebDAV")
        SFTP = "sftp", _("SFTP")
        S3 = "s3", _("S3 bucket")
        DRIVE = "drive", _("Google Drive")
        DROPBOX = "dropbox", _("Dropbox")
        ONEDRIVE = "onedrive", _("OneDrive")

    class State(models.TextChoices):
        MOUNTED = "mounted", _("mounted")
        MISSING = "missing", _("server not reachable")  # retried every minute
        FAILED = "failed", _("failed")  # refused (credentials, configuration): retried only when asked
        UNMOUNTED = "unmounted", _("not mounted")  # the admin unmounted it
        AUTHORIZING = "authorizing", _("waiting for authorisation")  # an OAuth drive without its token yet

    name = models.CharField(_("name"), max_length=48, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    options = models.JSONField(_("options"), default=dict, blank=True)
    secrets = EncryptedTextField(_("secrets"), blank=True, default="{}")
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.UNMOUNTED)
    message = models.TextField(_("message"), blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def target(self) -> str:
        """Where it is mounted: a folder of ours named after it."""
        return str(settings.REMOTES_MOUNT_ROOT / self.name)

    @property
    def where(self) -> str:
        """The server or address it is on, as the page names it."""
        opts = self.options
        place = opts.get("url") or opts.get("host") or opts.get("endpoint") or ""
        folder = opts.get("share") or opts.get("export") or opts.get("bucket") or ""
        return "/".join(filter(None, (place.rstrip("/"), folder)))

    @property
    def key(self) -> str:
        """How a grant or a root names it, whatever it is called later."""
        return f"remote:{self.pk}"


class SyncJob(models.Model):
    """Keep a folder of a remote and a local folder alike: one way (remote → local or local → remote) or both ways."""

    class Direction(models.TextChoices):
        PULL = "pull", _("remote → local")
        PUSH = "push", _("local → remote")
        BOTH = "both", _("both ways")

    remote = models.ForeignKey(Remote, on_delete=models.CASCADE, related_name="sync_jobs")
    remote_path = models.CharField(_("remote folder"), max_length=1024, blank=True)
    local_path = models.CharField(_("local folder (as the file manager names it)"), max_length=1024)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices, default=Direction.PULL)
    schedule = models.CharField(_("schedule (cron)"), max_length=120, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    last_started = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["remote__name", "pk"]

    def __str__(self) -> str:
        return f"{self.remote.name}:{self.remote_path} ↔ {self.local_path}"


class SyncRun(models.Model):
    """One run of a sync job: its progress while it runs, its outcome after."""

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    job = models.ForeignKey(SyncJob, on_delete=models.CASCADE, related_name="runs")
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    bytes_done = models.BigIntegerField(default=0)
    bytes_total = models.BigIntegerField(default=0)
    files_done = models.IntegerField(default=0)
    message = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.job} #{self.pk}"

    @property
    def percent(self) -> int:
        return int(100 * self.bytes_done / self.bytes_total) if self.bytes_total else (100 if self.finished_at else 0)
