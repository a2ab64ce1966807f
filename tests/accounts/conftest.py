"""Fixtures for the accounts tests: users with MFA, TOTP codes, the setup token, a clean throttle cache."""

import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django_otp.oath import TOTP

from accounts.models import Authenticator, BackupCodeDevice
from accounts.services.setup import setup_token_issue
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # DRF's throttles count in the process-wide cache; each test starts from zero.
    cache.clear()
    yield
    cache.clear()


def totp_code(key: bytes, *, at: float | None = None) -> str:
    """The 6-digit code an authenticator app shows for this key (now, or at a given time)."""
    generator = TOTP(key, step=30, t0=0, digits=6)
    generator.time = time.time() if at is None else at
    return f"{generator.token():06d}"


def give_mfa(user, backup_codes: tuple[str, ...] = ("backup0001", "backup0002")) -> bytes:
    """Enrol the user in TOTP (and backup codes) directly; returns the TOTP key."""
    device = Authenticator.objects.create(user=user, name="Authenticator", confirmed=True)
    BackupCodeDevice.objects.create(user=user, name="Backup codes", confirmed=True).add_codes(list(backup_codes))
    user.mfa_enabled = True
    user.save(update_fields=["mfa_enabled"])
    return device.bin_key


@pytest.fixture
def mfa_admin(db):
    user = UserFactory(admin=True, username="root")
    user.totp_key = give_mfa(user)
    return user


@pytest.fixture
def mfa_member(db):
    user = UserFactory(username="carol")
    user.totp_key = give_mfa(user)
    return user


@pytest.fixture
def setup_token(db):
    token = setup_token_issue()
    yield token
    (settings.DATA_DIR / "setup-token").unlink(missing_ok=True)


def password_only_client(client, user, password):
    """A client that gave the right password of an MFA user and stopped before the OTP step."""
    response = client.post("/login/", {"username": user.username, "password": password})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/otp/")
    return client


def wait_for_next_step():
    """Sleep into the next 30-second TOTP step (a code may be used once per step)."""
    time.sleep(30 - time.time() % 30 + 0.2)
