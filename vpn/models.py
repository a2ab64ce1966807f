"""The VPN: the box's one WireGuard server interface and the devices (peers) allowed to connect to it."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class VpnServer(models.Model):
    """The server interface's settings (one row, pk 1) and how the last apply went: the worker makes the live
    interface match this row and the peers (applied), or says why it could not (failed, `error`)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Applying")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")

    enabled = models.BooleanField(_("VPN on"), default=False)
    address = models.CharField(_("address range"), max_length=64)  # the server's address and prefix: 10.77.0.1/24
    listen_port = models.PositiveIntegerField(_("listen port"))
    endpoint = models.CharField(_("public address"), max_length=253, blank=True)  # host name or address devices dial
    dns = models.CharField(_("DNS servers"), max_length=255, blank=True)  # given to devices; "" = keep their own
    # What devices send through the tunnel besides the VPN range (the home LAN, say); comma-separated networks.
    routes = models.CharField(_("extra routes"), max_length=512, blank=True)
    public_key = models.CharField(max_length=44, blank=True)  # the private key stays in a 0600 file (docs/vpn.md)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    error = models.TextField(blank=True)
    kind = models.CharField(max_length=10, blank=True)  # "kernel" or "userspace" (wireguard-go), from the last apply
    applied_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"VPN {self.address} :{self.listen_port}"


class VpnPeer(models.Model):
    """A device that may connect: its public key and its one address in the range. Its private key was shown once
    (QR code and .conf) and never stored; revoking deletes the row and the apply removes it from the interface."""

    name = models.CharField(_("device name"), max_length=80)
    public_key = models.CharField(max_length=44, unique=True)
    address = models.GenericIPAddressField(unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name
