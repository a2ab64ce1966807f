"""One row per interface change: what was asked, how far it got, and whether it was confirmed or rolled back."""

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NetworkChange(models.Model):
    """An interface change behind a NetworkManager checkpoint: kept only when confirmed from the new address."""

    class Method(models.TextChoices):
        DHCP = "auto", _("automatic (DHCP)")
        STATIC = "manual", _("static")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        APPLYING = "applying", _("applying")
        WAITING = "waiting", _("waiting for confirmation")
        CONFIRMED = "confirmed", _("confirmed")
        ROLLED_BACK = "rolled_back", _("rolled back")
        FAILED = "failed", _("failed")

    OPEN = (Status.QUEUED, Status.APPLYING, Status.WAITING)

    interface = models.CharField(_("interface"), max_length=15)
    method = models.CharField(_("method"), max_length=8, choices=Method.choices)
    address = models.CharField(_("address"), max_length=64, blank=True)  # "192.168.1.20/24" when static
    gateway = models.CharField(_("gateway"), max_length=64, blank=True)
    dns = models.JSONField(_("name servers"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    step = models.CharField(_("step"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    checkpoint = models.CharField(max_length=100, blank=True)  # NetworkManager's D-Bus path of the checkpoint
    token_hash = models.CharField(max_length=64, blank=True)  # sha256 of the confirmation code (never stored clear)
    rollback_seconds = models.PositiveIntegerField(default=60)
    deadline = models.DateTimeField(null=True, blank=True)  # confirm before this, or NetworkManager rolls back
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("network change")
        verbose_name_plural = _("network changes")
        constraints = [
            # One open change at a time, held by the database: every open row has the same key (a constant), so a
            # second one is refused even when two requests passed the service's check at the same moment.
            models.UniqueConstraint(
                Value(True), condition=Q(status__in=("queued", "applying", "waiting")), name="network_one_open_change"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.interface}: {self.get_method_display()} ({self.get_status_display()})"

    @property
    def new_host(self) -> str:
        """The address the change gives the box ("" for DHCP: unknown until the router answers)."""
        return self.address.partition("/")[0] if self.method == self.Method.STATIC else ""
