"""Login: password, then OTP when the user has MFA; lockout and audit on every failure."""

import time

from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth.hashers import make_password
from django_otp import login as otp_login
from django_otp import match_token

from accounts.net import client_address
from accounts.permissions import MFA_PENDING_SESSION_KEY, STEPUP_SESSION_KEY
from accounts.selectors import mfa_required_for

from .audit import audit_record
from .lockout import lockout_failure, lockout_is_locked, lockout_success
from .sessions import session_touch


class LockedOut(Exception):
    """Too many recent failures for this account name or address; the right password is refused too."""


def login_password(*, request, username: str, password: str):
    """Check a password; on success log the session in (it still needs OTP when the user has MFA)."""
    address = client_address(request)
    if lockout_is_locked(username=username, address=address):
        make_password(password)  # the same hashing work as a real check: a lock is not a timing oracle
        # Counted like a wrong password (the same database work too): hammering a locked name trips the address lock.
        lockout_failure(username=username, address=address, request=request, action="login.refused_locked")
        raise LockedOut
    user = authenticate(request, username=username, password=password)
    if user is None:
        lockout_failure(username=username, address=address, request=request, action="login.failure")
        return None
    auth_login(request, user)
    session_touch(request=request)
    if mfa_required_for(user):
        request.session[MFA_PENDING_SESSION_KEY] = True
        audit_record(actor=user, action="login.password_ok", request=request, target=username)
    else:
        login_finish(request=request, user=user, method="password")
    return user


def login_finish(*, request, user, method: str) -> None:
    """The login is complete: clear the pending flag and earlier failures, count it as a fresh step-up."""
    request.session.pop(MFA_PENDING_SESSION_KEY, None)
    request.session[STEPUP_SESSION_KEY] = time.time()
    lockout_success(username=user.get_username())
    audit_record(
        actor=user, action="login.success", request=request, target=user.get_username(), details={"method": method}
    )


def otp_check(*, request, user, code: str, action: str = "mfa.failure"):
    """Verify a TOTP or backup code for the user; failures count toward the lockout."""
    address = client_address(request)
    if lockout_is_locked(username=user.get_username(), address=address):
        raise LockedOut
    device = match_token(user, "".join(code.split()).lower()) if code else None
    if device is None:
        lockout_failure(username=user.get_username(), address=address, request=request, action=action)
    return device


def login_otp(*, request, code: str) -> bool:
    """The second step: a valid code marks the session as verified."""
    user = request.user
    device = otp_check(request=request, user=user, code=code)
    if device is None:
        return False
    otp_login(request, device)
    login_finish(request=request, user=user, method="otp")
    return True


def stepup_confirm(*, request, password: str, code: str = "") -> bool:
    """Re-check the password (and a code when the user has MFA) before a dangerous action."""
    user = request.user
    address = client_address(request)
    if lockout_is_locked(username=user.get_username(), address=address):
        raise LockedOut
    ok = user.check_password(password)
    if ok and user.mfa_enabled:
        ok = otp_check(request=request, user=user, code=code, action="stepup.failure") is not None
    elif not ok:
        lockout_failure(username=user.get_username(), address=address, request=request, action="stepup.failure")
    if ok:
        request.session[STEPUP_SESSION_KEY] = time.time()
        audit_record(actor=user, action="stepup.success", request=request, target=user.get_username())
    return ok
