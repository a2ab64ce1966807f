"""Installed apps: one row per compose project we manage, holding the request and the truth about its state."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# Compose's own project-name rule (runtime.labels.is_valid_project_name), kept short enough for container names.
project_name_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]{0,62}$",
    _("Use lowercase letters, digits, '-' and '_', starting with a letter or digit (at most 63 characters)."),
)


class Installation(models.Model):
    """An app: its compose document and inputs, where its install stands, and what the last failure said."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Queued")
        PULLING = "pulling", _("Downloading images")
        CREATING = "creating", _("Creating containers")
        STARTING = "starting", _("Starting")
        RUNNING = "running", _("Running")
        STOPPED = "stopped", _("Stopped")
        DEGRADED = "degraded", _("Partly running")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        REMOVING = "removing", _("Removing")

    class Source(models.TextChoices):
        STORE = "store", _("App store")
        CUSTOM = "custom", _("Custom compose")

    # The installer owns the row while in one of these; the events listener leaves it alone.
    IN_PROGRESS = (Status.PENDING, Status.PULLING, Status.CREATING, Status.STARTING)
    WORKING = (Status.PULLING, Status.CREATING, Status.STARTING)
    SETTLED = (Status.RUNNING, Status.STOPPED, Status.DEGRADED)
    # Rows in these states hold no engine objects and claim no ports.
    ENDED = (Status.FAILED, Status.CANCELLED)

    name = models.CharField(_("name"), max_length=63, unique=True, validators=[project_name_validator])
    title = models.CharField(_("title"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.CUSTOM)
    store_ref = models.CharField(_("store app"), max_length=255, blank=True)
    compose = models.TextField(_("compose document"))
    inputs = models.JSONField(_("user inputs"), default=dict, blank=True)
    variables = models.JSONField(_("variables"), default=dict, blank=True)  # built-ins + inputs, fixed at request
    ports = models.JSONField(_("claimed host ports"), default=list, blank=True)  # ["tcp/8080", ...]
    web_port = models.PositiveIntegerField(_("web port"), null=True, blank=True)

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    progress = models.JSONField(_("progress"), default=dict, blank=True)
    error = models.TextField(_("last error"), blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=255, blank=True)  # the Celery node running it
    delete_data = models.BooleanField(_("delete data on removal"), default=False)
    created_objects = models.JSONField(_("objects this install created"), default=list, blank=True)
    # Services stopped because they kept restarting: {service: {exit_code, log, restarts, at}} until the next start.
    restart_loop = models.JSONField(_("restarting repeatedly"), default=dict, blank=True)
    # Who approved each configuration the app ran with, and the host access it was given (apps.services.policy):
    # [{"items": ["host_folder:/srv", ...], "by": "admin", "by_id": 1, "at": "...", "operation": "install"}]
    consents = models.JSONField(_("consents to host access"), default=list, blank=True)
    # Where a new app's data comes from before its containers exist (apps.services.seed): {"kind": "backup", ...};
    # empty once the install is over.
    seed = models.JSONField(_("data to fill in first"), default=dict, blank=True)
    # Where the app runs (apps.services.placement): {} = this box, the plain engine; otherwise a Swarm service per
    # compose service, {"where": "any"}, {"where": "node", "node": "<id>"} or {"where": "label", "label": "k=v"}.
    # Fixed at install: changing it means installing the app again.
    placement = models.JSONField(_("where it runs"), default=dict, blank=True)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="installations"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("app")
        verbose_name_plural = _("apps")

    def __str__(self) -> str:
        return self.title or self.name

    @property
    def in_progress(self) -> bool:
        """The installer is (or should be) working on it."""
        return self.status in self.IN_PROGRESS

    @property
    def group(self) -> str:
        """The Channels group of this app's live events."""
        return f"app.{self.pk}"


# ---------------------------------------------------------------------------- after the install (issue 6)
class AppLock(models.Model):
    """The one operation running on an app (start, update, settings...): its row exists while it runs.

    The primary key is the app, so a second operation cannot insert its row: "busy" is the database's answer.
    """

    installation = models.OneToOneField(Installation, primary_key=True, on_delete=models.CASCADE, related_name="lock")
    operation = models.CharField(_("operation"), max_length=32)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), auto_now_add=True)

    class Meta:
        verbose_name = _("running operation")
        verbose_name_plural = _("running operations")

    def __str__(self) -> str:
        return f"{self.installation_id}: {self.operation}"


class AppEvent(models.Model):
    """One line of an app's history: an operation, who asked, and how it ended."""

    class Outcome(models.TextChoices):
        STARTED = "started", _("Started")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        ROLLED_BACK = "rolled_back", _("Rolled back")
        CANCELLED = "cancelled", _("Cancelled")

    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="history")
    operation = models.CharField(_("operation"), max_length=32)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.STARTED)
    message = models.TextField(_("message"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("app event")
        verbose_name_plural = _("app events")

    def __str__(self) -> str:
        return f"{self.installation_id} {self.operation} {self.outcome}"


class AppUpdateState(models.Model):
    """What we know about an app's updates: held or not, what the registries say, the last pre-update snapshot."""

    installation = models.OneToOneField(
        Installation, primary_key=True, on_delete=models.CASCADE, related_name="update_state"
    )
    held = models.BooleanField(_("hold this version"), default=False)
    available = models.BooleanField(_("update available"), default=False)
    reason = models.CharField(_("why"), max_length=255, blank=True)
    local_digests = models.JSONField(_("local image digests"), default=dict, blank=True)
    remote_digests = models.JSONField(_("registry digests"), default=dict, blank=True)
    checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    snapshot = models.JSONField(_("configuration before the last change"), default=dict, blank=True)

    class Meta:
        verbose_name = _("update state")
        verbose_name_plural = _("update states")

    def __str__(self) -> str:
        return str(self.installation_id)


class AppGrant(models.Model):
    """An admin lets a member see and open one app."""

    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="app_grants")
    created_at = models.DateTimeField(_("granted"), auto_now_add=True)

    class Meta:
        verbose_name = _("app grant")
        verbose_name_plural = _("app grants")
        constraints = [models.UniqueConstraint(fields=["installation", "user"], name="apps_unique_grant")]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.installation_id}"


class AppTile(models.Model):
    """One user's placement of one app's tile on the apps page."""

    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="tiles")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="app_tiles")
    position = models.PositiveIntegerField(_("position"), default=0)
    hidden = models.BooleanField(_("hidden"), default=False)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("app tile")
        verbose_name_plural = _("app tiles")
        constraints = [models.UniqueConstraint(fields=["installation", "user"], name="apps_unique_tile")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.installation_id} @ {self.position}"
