"""Notifications per user, the rules' settings and cool-downs, the delivery channels and their outbox."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casaos_site.credentials import EncryptedTextField


class Notification(models.Model):
    """One message in one person's notification centre (its text is a stored message, shown in their language)."""

    class Severity(models.TextChoices):
        INFO = "info", _("Information")
        WARNING = "warning", _("Warning")
        CRITICAL = "critical", _("Critical")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=64)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.WARNING)
    message = models.TextField(_("message"))
    link = models.CharField(_("link"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    dismissed_at = models.DateTimeField(_("dismissed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "dismissed_at", "read_at"], name="notify_user_state")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.user} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class Rule(models.Model):
    """The admin's settings of one built-in rule (rules.py): on or off, its threshold and its cool-down."""

    key = models.CharField(_("rule"), max_length=64, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    threshold = models.PositiveIntegerField(_("threshold"), null=True, blank=True)
    cooldown_minutes = models.PositiveIntegerField(_("cool-down (minutes)"), default=60)

    class Meta:
        ordering = ["key"]
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")

    def __str__(self) -> str:
        return self.key


class Firing(models.Model):
    """When a rule last sent a message about one subject (a disk, an app): the cool-down counts from here."""

    rule = models.CharField(max_length=64)
    subject = models.CharField(max_length=255, blank=True)
    last_at = models.DateTimeField(default=timezone.now)
    suppressed = models.PositiveIntegerField(default=0)  # repeats held back by the cool-down since last_at

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "subject"], name="notify_firing_unique")]

    def __str__(self) -> str:
        return f"{self.rule} {self.subject}".strip()


class Channel(models.Model):
    """Where one person's notifications go besides the bell: email, an Apprise URL or a browser's Web Push."""

    class Kind(models.TextChoices):
        INAPP = "inapp", _("In the app")
        EMAIL = "email", _("Email")
        APPRISE = "apprise", _("Apprise URL")
        WEBPUSH = "webpush", _("Web Push")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_channels")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    address = models.EmailField(_("email address"), blank=True)
    # An Apprise URL carries its service's token; a push subscription its keys: both are secrets at rest.
    secret = EncryptedTextField(_("URL or subscription"), null=True, blank=True)
    # The rules this channel carries; empty means every rule.
    rules = models.JSONField(_("rules"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_ok_at = models.DateTimeField(_("last delivered"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    last_error_at = models.DateTimeField(_("last failure"), null=True, blank=True)

    class Meta:
        ordering = ["user", "kind", "pk"]
        verbose_name = _("notification channel")
        verbose_name_plural = _("notification channels")

    def __str__(self) -> str:
        return f"{self.user} {self.kind} {self.name}".strip()

    def carries(self, rule: str) -> bool:
        return self.enabled and (not self.rules or rule in self.rules)

    @property
    def failing(self) -> bool:
        """Its last attempt failed (no delivery went through since)."""
        return bool(self.last_error_at) and (self.last_ok_at is None or self.last_error_at > self.last_ok_at)


class Delivery(models.Model):
    """One message to send through one channel: the outbox a Celery task works through, retried with backoff."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        RETRYING = "retrying", _("Retrying")
        FAILED = "failed", _("Failed")

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=64)
    severity = models.CharField(max_length=10, default="warning")
    message = models.TextField()
    link = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"{self.kind} → {self.channel_id} ({self.status})"


class SmtpSettings(models.Model):
    """The one SMTP server email goes through (its password encrypted at rest)."""

    class Security(models.TextChoices):
        NONE = "none", _("None")
        STARTTLS = "starttls", _("STARTTLS")
        TLS = "tls", _("TLS")

    host = models.CharField(_("server"), max_length=255, blank=True)
    port = models.PositiveIntegerField(_("port"), default=587)
    security = models.CharField(_("encryption"), max_length=10, choices=Security.choices, default=Security.STARTTLS)
    username = models.CharField(_("user name"), max_length=255, blank=True)
    password = EncryptedTextField(_("password"), null=True, blank=True)
    sender = models.EmailField(_("sender address"), blank=True)

    class Meta:
        verbose_name = _("SMTP settings")
        verbose_name_plural = _("SMTP settings")

    def __str__(self) -> str:
        return self.host or "SMTP"

    @classmethod
    def load(cls) -> "SmtpSettings":
        return cls.objects.get_or_create(pk=1)[0]


class PushKeys(models.Model):
    """This install's VAPID key pair for Web Push, made at first use (the private key encrypted at rest)."""

    private_pem = EncryptedTextField()
    public_key = models.CharField(max_length=100)  # the application server key browsers subscribe with (base64url)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.public_key
