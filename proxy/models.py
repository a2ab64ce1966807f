"""How each app is reached from outside the box: the reverse proxy's name for it, our login in front of it, and
whether its ports are open beyond the LAN (the firewall reads `public`)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppAddress(models.Model):
    """An app's address: `https://<name>.<box domain>` (or `https://<box domain>/<name>/`), guarded by our login or
    not, LAN-only or public."""

    class Mode(models.TextChoices):
        NAME = "name", _("By its own name: https://<name>.<domain>")
        PATH = "path", _("By a path on the admin's address: https://<domain>/<name>/")

    installation = models.OneToOneField("apps.Installation", on_delete=models.CASCADE, related_name="address")
    name = models.SlugField(max_length=63, unique=True, help_text="a DNS label: the app is served at <name>.<domain>")
    # A path puts the app on the admin's own origin (docs/proxy.md): only for apps that accept a base path.
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.NAME)
    require_login = models.BooleanField(default=False)
    public = models.BooleanField(default=False, help_text="its published ports are open beyond the LAN")

    def __str__(self) -> str:
        return self.name


class ProxySettings(models.Model):
    """The proxy's one row (pk=1): the box's domain, where certificates come from, HTTPS on or off."""

    class CertificateMode(models.TextChoices):
        INTERNAL = "internal", _("Our own certificate authority (LAN names)")
        ACME = "acme", _("Let's Encrypt (a public domain that points to this box)")

    domain = models.CharField(_("domain"), max_length=200, blank=True)
    certificate_mode = models.CharField(
        _("certificates"), max_length=16, choices=CertificateMode.choices, default=CertificateMode.INTERNAL
    )
    acme_email = models.EmailField(_("contact e-mail for Let's Encrypt"), blank=True)
    https = models.BooleanField(_("HTTPS"), default=True)
    # What the last push to Caddy did: when, and its error (empty when Caddy took the configuration).
    pushed_at = models.DateTimeField(_("configuration loaded"), null=True, blank=True)
    push_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("proxy settings")
        verbose_name_plural = _("proxy settings")

    def __str__(self) -> str:
        return str(_("Proxy settings"))

    @classmethod
    def load(cls) -> "ProxySettings":
        """The settings row, created on first use."""
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class SsoTicket(models.Model):
    """A one-time, short-lived hand-over of a logged-in session from the admin's domain to one app's domain.

    Only its hash is stored; the ticket itself travels once, in the redirect to the app's callback."""

    digest = models.CharField(max_length=64, unique=True)
    address = models.ForeignKey(AppAddress, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40)  # the admin session it came from: its logout ends the app's too
    next_path = models.CharField(max_length=2000, default="/")
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"ticket {self.pk} -> {self.address_id}"


class AppSession(models.Model):
    """A visitor's login on one app's domain (the `casaos_sso` cookie there), tied to the admin session it came
    from. Only the cookie's hash is stored."""

    digest = models.CharField(max_length=64, unique=True)
    address = models.ForeignKey(AppAddress, on_delete=models.CASCADE, related_name="sessions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"app session {self.pk} -> {self.address_id}"
