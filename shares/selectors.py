"""Reads of shares: the list with grants and SMB names, the users one may grant, a user's own SMB state."""

from django.contrib.auth import get_user_model

from .models import SambaAccount, Share


def shares_list():
    """Every share with its grants and their users' Samba accounts (one query each)."""
    return Share.objects.prefetch_related("grants__user__samba_account")


def grantable_users():
    """Our active users, by name: who a share may be given to."""
    return get_user_model().objects.filter(is_active=True).select_related("samba_account").order_by("username")


def smb_state(user) -> dict:
    """The user's own SMB name and whether a password was set (never the password: Samba alone holds it)."""
    account = SambaAccount.objects.filter(user=user).first()
    from .smbaccounts import unix_name_for

    return {
        "username": account.unix_name if account else unix_name_for(user),
        "password_set": bool(account and account.password_set_at),
        "password_set_at": account.password_set_at if account else None,
    }
