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

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="installations")
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
