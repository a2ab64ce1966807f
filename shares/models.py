"""SMB shares: a folder of a root under a name, who may read or write it, and our users' Samba accounts."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Share(models.Model):
    """A folder of the files root, a disk or a pool, shared over SMB under `name`; `state` says whether the live
    Samba configuration holds it as stored (applied), not yet (pending), refused it (failed, `error` says why) or
    still holds it after its removal was asked (removing)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Applying")
        APPLIED = "applied", _("Shared")
        FAILED = "failed", _("Failed")
        REMOVING = "removing", _("Removing")

    name = models.CharField(_("share name"), max_length=80)
    # The folder as an admin's Files view names it: "" (the files root), "Media/Films", "@Data/Films" (a disk's).
    place = models.CharField(_("folder"), max_length=1024, blank=True)
    guest = models.BooleanField(_("guests may read"), default=False)
    visible = models.BooleanField(_("visible in the network browser"), default=True)
    recycle = models.BooleanField(_("recycle bin"), default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    error = models.TextField(blank=True)  # Samba's or our own words when the last apply refused the share
    real_path = models.CharField(max_length=4096, blank=True)  # where the folder was at the last apply
    applied_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        # Share names are case-insensitive for every SMB client.
        constraints = [models.UniqueConstraint(Lower("name"), name="shares_share_unique_name")]

    def __str__(self) -> str:
        return self.name


class ShareGrant(models.Model):
    """One of our users may read, or read and write, a share."""

    class Access(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Read and write")

    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_grants")
    access = models.CharField(max_length=8, choices=Access.choices, default=Access.READ)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["share", "user"], name="shares_grant_unique_user")]
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} → {self.share} ({self.access})"


class SambaAccount(models.Model):
    """The Unix account Samba knows one of our users by (the SMB user name), and when its password was last set;
    the password itself lives only in Samba's passdb."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="samba_account")
    unix_name = models.CharField(_("SMB user name"), max_length=32, unique=True)
    password_set_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.unix_name
