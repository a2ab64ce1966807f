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
from .lockout import Attempt, Kind, lockout_failure, lockout_refusal, lockout_refused, lockout_success
from .sessions import session_cycle, session_touch


def _refuse_if_locked(*, request, username: str, password: str) -> None:
    """Refuse a login attempt before its check while its pair or address is locked or its account must wait."""
    address = client_address(request)
    refusal = lockout_refusal(attempt=Attempt(username, address))
    if refusal is not None:
        make_password(password)  # the same hashing work as a real check: a lock is not a timing oracle
        lockout_refused(refusal=refusal, username=username, address=address, request=request)
        raise refusal


def login_password(*, request, username: str, password: str):
    """Check a password; on success log the session in (it still needs OTP when the user has MFA)."""
    _refuse_if_locked(request=request, username=username, password=password)
    user = authenticate(request, username=username, password=password)
    if user is None:
        lockout_failure(username=username, address=client_address(request), request=request, action="login.failure")
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
    lockout_success(username=user.get_username(), address=client_address(request))
    audit_record(
        actor=user, action="login.success", request=request, target=user.get_username(), details={"method": method}
    )


def otp_check(*, request, user, code: str, action: str = "mfa.failure"):
    """Verify a TOTP or backup code for the user; failures count toward the locks and the account's code delays."""
    address = client_address(request)
    refusal = lockout_refusal(attempt=Attempt(user.get_username(), address), throttle=Kind.CODE)
    if refusal is not None:
        raise refusal
    device = match_token(user, "".join(code.split()).lower()) if code else None
    if device is None:
        lockout_failure(
            username=user.get_username(), address=address, request=request, action=action, throttle=Kind.CODE
        )
    return device


def session_verified(*, request, device) -> None:
    """The session passed its OTP step with this device: it gets a new key (the one it had before is worthless)."""
    otp_login(request, device)
    session_cycle(request=request)


def login_otp(*, request, code: str) -> bool:
    """The second step: a valid code marks the session as verified."""
    user = request.user
    device = otp_check(request=request, user=user, code=code)
    if device is None:
        return False
    session_verified(request=request, device=device)
    login_finish(request=request, user=user, method="otp")
    return True


def credentials_confirm(*, request, password: str, code: str = "", action: str) -> bool:
    """Re-check the logged-in user's password (and a code when they have MFA), counted like a login attempt."""
    user = request.user
    address = client_address(request)
    refusal = lockout_refusal(attempt=Attempt(user.get_username(), address))
    if refusal is not None:
        raise refusal
    if not user.check_password(password):
        lockout_failure(username=user.get_username(), address=address, request=request, action=action)
        return False
    return not user.mfa_enabled or otp_check(request=request, user=user, code=code, action=action) is not None


def stepup_confirm(*, request, password: str, code: str = "") -> bool:
    """Re-check the password (and a code when the user has MFA) before a dangerous action; the session then has a
    new key, like after every step that raises its privilege."""
    if not credentials_confirm(request=request, password=password, code=code, action="stepup.failure"):
        return False
    request.session[STEPUP_SESSION_KEY] = time.time()
    session_cycle(request=request)
    audit_record(actor=request.user, action="stepup.success", request=request, target=request.user.get_username())
    return True
