"""MFA: TOTP enrolment confirmed by a first code, 10 single-use backup codes, removal, admin requirement."""

from django.db import transaction
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.net import client_address
from accounts.permissions import MFA_PENDING_SESSION_KEY
from accounts.selectors import site_security, totp_pending_for

from .audit import audit_record
from .lockout import lockout_failure, lockout_is_locked
from .login import LockedOut, login_finish
from .sessions import sessions_end_all

BACKUP_CODES = 10


def totp_enrol_start(*, user) -> TOTPDevice:
    """Start (or continue) an enrolment: an unconfirmed device whose key the page shows as QR code and text."""
    return totp_pending_for(user) or TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)


def backup_codes_regenerate(*, user, request=None) -> list[str]:
    """Replace the user's backup codes with 10 new single-use ones; they are shown once."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    audit_record(actor=user, action="mfa.backup_codes_created", request=request, target=user.get_username())
    return codes


def totp_enrol_confirm(*, request, user, code: str) -> list[str] | None:
    """Confirm the pending device with a first code; returns the new backup codes, or None for a wrong code."""
    address = client_address(request)
    if lockout_is_locked(username=user.get_username(), address=address):
        raise LockedOut
    device = totp_pending_for(user)
    if device is None or not device.verify_token("".join(code.split())):
        lockout_failure(username=user.get_username(), address=address, request=request, action="mfa.enrol_failure")
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        User.objects.filter(pk=user.pk).update(mfa_enabled=True)
        user.mfa_enabled = True
    audit_record(actor=user, action="mfa.enabled", request=request, target=user.get_username())
    codes = backup_codes_regenerate(user=user, request=request)
    otp_login(request, device)
    if request.session.get(MFA_PENDING_SESSION_KEY):
        # An admin made to enrol at login has now passed both steps.
        login_finish(request=request, user=user, method="enrolment")
    return codes


def mfa_remove(*, user, actor, request=None) -> None:
    """Remove every OTP device of the user (after the caller re-checked password and code, or an admin's step-up).

    The user's sessions end (a lost phone may be in someone else's hands), but the one removing their own MFA.
    """
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        User.objects.filter(pk=user.pk).update(mfa_enabled=False)
        user.mfa_enabled = False
    own = request is not None and actor is not None and actor.pk == user.pk
    sessions_end_all(user=user, except_key=request.session.session_key if own else None)
    audit_record(actor=actor, action="mfa.removed", request=request, target=user.get_username())


def admin_mfa_requirement_set(*, required: bool, actor, request=None) -> None:
    """Switch 'require MFA for admins' on or off explicitly."""
    row = site_security()
    row.require_admin_mfa = required
    row.save(update_fields=["require_admin_mfa"])
    audit_record(actor=actor, action="settings.admin_mfa", request=request, details={"required": required})
