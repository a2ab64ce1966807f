"""First run: a one-time setup token printed on the console creates the first admin (SECURITY.md lesson 8)."""

import hmac
import logging
import os
import secrets
from base64 import b32encode

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.net import client_address
from accounts.selectors import admin_exists

from .audit import audit_record
from .lockout import Attempt, LockedOut, lockout_failure, lockout_refusal

log = logging.getLogger("casaos.setup")


class SetupError(Exception):
    """The setup token is wrong, missing or locked out, or setup is already over."""

    @property
    def message(self) -> str:
        return LockedOut().message if str(self) == "locked" else _("That setup token is not right.")


def _token_path():
    # Beside the secret key, with the same protection (0600 in the data directory, never served over HTTP).
    return settings.DATA_DIR / "setup-token"


def _normalise(token: str) -> str:
    return "".join(token.split()).replace("-", "").upper()


def setup_token_issue() -> str:
    """Make a fresh setup token (replacing any earlier one), keep it 0600 in the data directory, return it."""
    raw = b32encode(secrets.token_bytes(15)).decode()  # 120 bits, 24 letters and digits
    token = "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))
    path = _token_path()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    tmp.replace(path)
    return token


def _current_token() -> str | None:
    try:
        return _token_path().read_text().strip() or None
    except OSError:
        return None


def setup_token_announce(write) -> str | None:
    """At start: while no admin exists, print the setup token with `write` and log it (made once, reused)."""
    try:
        done = admin_exists()
    except DatabaseError:  # not migrated yet: the next start prints it
        return None
    if done:
        setup_token_discard()
        return None
    token = _current_token() or setup_token_issue()
    message = f"casaos: first run: open the web admin and enter this setup token: {token}"
    write(message)
    log.warning(message)
    return token


def setup_token_discard() -> None:
    """An admin exists: the setup token can never be used again, so it must not lie about either."""
    _token_path().unlink(missing_ok=True)


def setup_mode() -> bool:
    """A setup token is out and no admin exists yet (the file test first: it is the cheap one). A token that
    outlived setup (an admin made another way) is removed here."""
    if not _token_path().exists():
        return False
    if admin_exists():
        setup_token_discard()
        return False
    return True


def _token_matches(token: str) -> bool:
    if admin_exists():
        setup_token_discard()
        return False
    expected = _current_token()
    return expected is not None and hmac.compare_digest(_normalise(token).encode(), _normalise(expected).encode())


def setup_token_verify(*, request, token: str) -> None:
    """Raise SetupError unless the token is right (wrong tries count towards the address's lockout)."""
    address = client_address(request)
    if lockout_refusal(attempt=Attempt(None, address), throttle=None):
        raise SetupError("locked")
    if not _token_matches(token):
        lockout_failure(username=None, address=address, request=request, action="setup.failure", throttle=None)
        raise SetupError("token")


def setup_complete(*, request, token: str, username: str, password: str, email: str = "") -> User:
    """Create the first admin if the token is right; the token is then gone for good."""
    setup_token_verify(request=request, token=token)
    with transaction.atomic():
        if admin_exists():
            raise SetupError("done")
        user = User.objects.create_user(username=username, email=email, password=password, role=User.Role.ADMIN)
    audit_record(actor=user, action="setup.completed", request=request, target=username)
    return user
