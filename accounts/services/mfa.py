"""MFA: TOTP enrolment confirmed by a first code, 10 single-use backup codes, removal, admin requirement."""

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticToken

from accounts.models import Authenticator, BackupCodeDevice, User
from accounts.net import client_address
from accounts.permissions import MFA_PENDING_SESSION_KEY
from accounts.selectors import site_security, totp_pending_for

from .audit import audit_record
from .lockout import Attempt, Kind, lockout_failure, lockout_refusal
from .login import login_finish, session_verified
from .sessions import sessions_end_all
from .tokens import api_tokens_revoke_all

BACKUP_CODES = 10


def totp_enrol_start(*, user) -> Authenticator:
    """Start (or continue) an enrolment: an unconfirmed device whose key the page shows as QR code and text."""
    return totp_pending_for(user) or Authenticator.objects.create(user=user, name="Authenticator", confirmed=False)


def backup_codes_regenerate(*, user, request=None) -> list[str]:
    """Replace the user's backup codes with 10 new single-use ones; they are shown once, and only their hashes kept."""
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    with transaction.atomic():
        BackupCodeDevice.objects.filter(user=user).delete()
        BackupCodeDevice.objects.create(user=user, name="Backup codes", confirmed=True).add_codes(codes)
    audit_record(actor=user, action="mfa.backup_codes_created", request=request, target=user.get_username())
    return codes


def totp_enrol_confirm(*, request, user, code: str) -> list[str] | None:
    """Confirm the pending device with a first code; returns the new backup codes, or None for a wrong code."""
    address = client_address(request)
    refusal = lockout_refusal(attempt=Attempt(user.get_username(), address), throttle=Kind.CODE)
    if refusal is not None:
        raise refusal
    device = totp_pending_for(user)
    if device is None or not device.verify_token("".join(code.split())):
        lockout_failure(
            username=user.get_username(),
            address=address,
            request=request,
            action="mfa.enrol_failure",
            throttle=Kind.CODE,
        )
        return None
    with transaction.atomic():
        Authenticator.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        User.objects.filter(pk=user.pk).update(mfa_enabled=True)
        user.mfa_enabled = True
    audit_record(actor=user, action="mfa.enabled", request=request, target=user.get_username())
    codes = backup_codes_regenerate(user=user, request=request)
    session_verified(request=request, device=device)
    if request.session.get(MFA_PENDING_SESSION_KEY):
        # An admin made to enrol at login has now passed both steps.
        login_finish(request=request, user=user, method="enrolment")
    return codes


def mfa_remove(*, user, actor, request=None) -> None:
    """Remove every OTP device of the user (after the caller re-checked password and code, or an admin's step-up).

    The user's sessions end (a lost phone may be in someone else's hands), but the one removing their own MFA.
    """
    with transaction.atomic():
        Authenticator.objects.filter(user=user).delete()
        BackupCodeDevice.objects.filter(user=user).delete()
        User.objects.filter(pk=user.pk).update(mfa_enabled=False)
        user.mfa_enabled = False
    own = request is not None and actor is not None and actor.pk == user.pk
    sessions_end_all(user=user, except_key=request.session.session_key if own else None)
    audit_record(actor=actor, action="mfa.removed", request=request, target=user.get_username())
    if not own:
        # Someone else's phone may be in a thief's hands: the tokens made with it go too (docs/accounts.md).
        reason = "MFA removed by an admin" if actor else "MFA removed on the console"
        api_tokens_revoke_all(user=user, actor=actor, request=request, reason=reason)


def admin_mfa_requirement_set(*, required: bool, actor, request=None) -> None:
    """Switch 'require MFA for admins' on or off explicitly."""
    row = site_security()
    row.require_admin_mfa = required
    row.save(update_fields=["require_admin_mfa"])
    audit_record(actor=actor, action="settings.admin_mfa", request=request, details={"required": required})
