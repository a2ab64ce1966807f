"""Our users' Samba accounts: the SMB user name each one logs in with, and their SMB password (in passdb only)."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.services.audit import audit_record
from casaos_site.i18n import deferred

from .host import accounts as host
from .models import SambaAccount
from .validation import ShareRefused, check_samba_ready

# A Unix account name every tool takes: lower-case letter first, then letters, digits, - and _ (useradd's rule).
_UNIX_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


def _name_free(name: str, user) -> bool:
    if SambaAccount.objects.filter(unix_name=name).exclude(user=user).exists():
        return False
    return host.account_owner(name) in (None, host.account_mark(user.pk))


def unix_name_for(user) -> str:
    """The user's name in lower case when it is a valid Unix name that no other account holds; else casaos-<id>."""
    name = user.get_username().lower()
    if _UNIX_NAME.fullmatch(name) and _name_free(name, user):
        return name
    return f"casaos-{user.pk}"


def account_for(user) -> SambaAccount:
    """The user's Samba account row, its name chosen on first use and kept (what they type in Windows)."""
    account = SambaAccount.objects.filter(user=user).first()
    if account is None:
        account = SambaAccount.objects.create(user=user, unix_name=unix_name_for(user))
    return account


def _check_password(user, password: str) -> None:
    if not password or any(c in password for c in "\r\n\x00"):
        raise ShareRefused(deferred("An SMB password cannot be empty or hold a line break."), field="password")
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ShareRefused(" ".join(exc.messages), field="password") from None


def smb_password_set(*, user, password: str, request=None) -> SambaAccount:
    """Give the user's Samba account this password (made with its Unix account on first use); never stored here."""
    _check_password(user, password)
    check_samba_ready(settings.SAMBA_CONF)
    account = account_for(user)
    host.service_user_ensure(settings.SHARES_USER)
    host.account_ensure(name=account.unix_name, user_id=user.pk, group=settings.SHARES_USER)
    host.password_set(name=account.unix_name, password=password, conf=settings.SAMBA_CONF)
    if not user.is_active:
        host.passdb_enable(name=account.unix_name, conf=settings.SAMBA_CONF, enabled=False)
    account.password_set_at = timezone.now()
    account.save(update_fields=["password_set_at"])
    audit_record(actor=user, action="shares.smb_password", request=request, target=account.unix_name)
    return account


def smb_account_enable(*, user, enabled: bool) -> None:
    """A user disabled in our app may not log in to a share; enabled again, they may."""
    account = SambaAccount.objects.filter(user=user, password_set_at__isnull=False).first()
    if account is not None:
        host.passdb_enable(name=account.unix_name, conf=settings.SAMBA_CONF, enabled=enabled)


def smb_account_remove(*, account: SambaAccount) -> None:
    """The passdb entry and the Unix account of a user who is gone (only an account carrying our mark)."""
    host.account_remove(name=account.unix_name, user_id=account.user_id, conf=settings.SAMBA_CONF)
