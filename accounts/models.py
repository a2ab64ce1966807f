"""Accounts: users with a role, the site's security settings, API tokens, lockout counters, sessions, audit log, and
the MFA devices (an authenticator app with its key encrypted, backup codes as hashes)."""

import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp import models as totp_models

from casaos_site.credentials import EncryptedTextField, code_digest


class User(AbstractUser):
    """A person who may log in: an admin (everything) or a member (what an admin grants)."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        MEMBER = "member", _("Member")

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    # Installing changes the machine: admins always may, a member only when an admin allowed it (off by default).
    may_install_apps = models.BooleanField(
        _("may install apps"),
        default=False,
        help_text=_(
            "Members: may install apps that ask for no host access; the apps they install are granted to them."
        ),
    )
    # Kept by the MFA services so websocket checks can decide without a database query in the event loop.
    mfa_enabled = models.BooleanField(_("MFA enabled"), default=False, editable=False)

    class Theme(models.TextChoices):
        SYSTEM = "system", _("Same as the system")
        LIGHT = "light", _("Light")
        DARK = "dark", _("Dark")

    # Preferences: blank language means the browser's Accept-Language, then English.
    language = models.CharField(_("language"), max_length=16, blank=True, choices=settings.LANGUAGES)
    theme = models.CharField(_("theme"), max_length=8, choices=Theme.choices, default=Theme.SYSTEM)
    hidden_widgets = models.JSONField(_("hidden home widgets"), default=list, blank=True)

    @property
    def is_admin(self) -> bool:
        return self.is_active and (self.role == self.Role.ADMIN or self.is_superuser)

    @property
    def can_install(self) -> bool:
        """Admins, and members an admin allowed to install apps (accounts.permissions.user_may_install)."""
        return self.is_admin or (self.is_active and self.may_install_apps)

    def has_perm(self, perm, obj=None) -> bool:
        # The admin role means everything, in the Django admin too; members get no model permissions there.
        return self.is_admin or super().has_perm(perm, obj)

    def has_module_perms(self, app_label) -> bool:
        return self.is_admin or super().has_module_perms(app_label)

    def save(self, *args, **kwargs):
        # createsuperuser and the admin's "superuser" box mean the admin role, and the other way round.
        if self.is_superuser:
            self.role = self.Role.ADMIN
        self.is_staff = self.role == self.Role.ADMIN
        super().save(*args, **kwargs)


class SiteSecurity(models.Model):
    """The site-wide security settings (one row)."""

    # None = automatic: required as soon as one admin has enrolled, so the first enrolment switches it on.
    require_admin_mfa = models.BooleanField(_("require MFA for admins"), null=True, default=None)

    class Meta:
        verbose_name = _("security settings")
        verbose_name_plural = _("security settings")

    def __str__(self) -> str:
        return str(_("Security settings"))


class AuditEvent(models.Model):
    """One security-relevant event: who, what, on what, from where, when. Never holds a secret."""

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    # The name stays readable after the actor's account is deleted.
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target = models.CharField(_("target"), max_length=255, blank=True)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name or '-'} {self.action} {self.target}"


class APIToken(models.Model):
    """A named API token; only its SHA-256 digest is stored (the token itself is shown once)."""

    class Scope(models.TextChoices):
        READ = "read", _("Read only")
        FULL = "full", _("Full access")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices, default=Scope.READ)
    # The first characters let a person recognise a token in lists and logs; they are not enough to use it.
    prefix = models.CharField(_("prefix"), max_length=16)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class FailureCounter(models.Model):
    """Recent credential failures and what they caused: a hard lock of an (account, address) pair or of an address,
    a delay on an account's passwords or codes (never a lock: that would let anyone lock the owner out), or a bucket
    of one address's bad API tokens."""

    class Kind(models.TextChoices):
        # Password guesses at an account from every address: each further attempt waits longer (capped), no lock.
        ACCOUNT = "account", _("Account (delays)")
        # Code guesses (OTP, backup codes) at an account: delays of their own, which password guesses never raise.
        CODE = "code", _("Account's codes (delays)")
        # One account name from one address: locked for LOCKOUT_SECONDS.
        PAIR = "pair", _("Account from an address")
        ADDRESS = "address", _("Address")
        # Bad API tokens from one address: their own bucket, so they lock neither logins nor valid tokens.
        TOKEN = "token", _("API tokens from an address")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    # The account name as typed (lower-cased), known or not: locking only real accounts would reveal which exist.
    # A pair's key is "<name> <address>": an address has no space (a name as typed may), so it follows the last one.
    key = models.CharField(max_length=255)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    # A lock's end, or for the delays of an account the moment its next attempt may be checked.
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="accounts_failure_kind_key")]
        verbose_name = _("lockout")
        verbose_name_plural = _("lockouts")

    def __str__(self) -> str:
        return f"{self.kind} {self.key}: {self.failures}"

    @property
    def address(self) -> str:
        """The client address of an address's or a pair's counter."""
        return "" if self.kind in (self.Kind.ACCOUNT, self.Kind.CODE) else self.key.rsplit(" ", 1)[-1]

    def is_locked(self, now=None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or timezone.now())


class UserSession(models.Model):
    """A logged-in browser session as the user sees it in their list: device, address, last seen."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracked_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    user_agent = models.CharField(max_length=300, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    def __str__(self) -> str:
        return f"{self.user_id} {self.address} {self.last_seen_at:%Y-%m-%d %H:%M}"


class Authenticator(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP): django-otp's TOTP device, whose key is stored encrypted (casaos_site.credentials).

    A copy of the database alone gives no one the codes; the key file beside it is needed too.
    """

    key = EncryptedTextField(default=totp_models.default_key, validators=[totp_models.key_validator])
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    # django-otp's own verification and provisioning, unchanged: they read `key` as the hex text it decrypts to.
    bin_key = totp_models.TOTPDevice.bin_key
    verify_token = totp_models.TOTPDevice.verify_token
    get_throttle_factor = totp_models.TOTPDevice.get_throttle_factor
    config_url = totp_models.TOTPDevice.config_url
    _read_str_from_settings = totp_models.TOTPDevice._read_str_from_settings

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")


def backup_code_salt() -> str:
    return secrets.token_hex(16)


class BackupCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """A user's single-use backup codes, kept as salted scrypt hashes: a copy of the database shows none of them."""

    salt = models.CharField(max_length=32, default=backup_code_salt, editable=False)

    class Meta(Device.Meta):
        verbose_name = _("backup codes")
        verbose_name_plural = _("backup codes")

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)

    def add_codes(self, codes: list[str]) -> None:
        BackupCode.objects.bulk_create([BackupCode(device=self, digest=code_digest(c, self.salt)) for c in codes])

    def verify_token(self, token) -> bool:
        """A code matches at most one stored hash, which is then deleted (each code works once)."""
        if not self.verify_is_allowed()[0]:
            return False
        # One DELETE both finds and spends the code: two requests racing with it cannot both succeed.
        used, _per_model = self.codes.filter(digest=code_digest(str(token), self.salt)).delete()
        if not used:
            self.throttle_increment()
            return False
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class BackupCode(models.Model):
    """One unused backup code, as its hash."""

    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64, db_index=True)

    class Meta:
        verbose_name = _("backup code")

    def __str__(self) -> str:
        return f"backup code {self.pk} of device {self.device_id}"
