"""Upgrading: MFA devices move out of django-otp's tables, where they were in clear, with the TOTP keys encrypted and
the backup codes hashed; the old rows are gone and every device still works."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import Authenticator, BackupCodeDevice
from tests.accounts.conftest import totp_code

BEFORE = [
    ("accounts", "0005_mfa_devices_encrypted"),
    ("otp_totp", "0003_add_timestamps"),
    ("otp_static", "0003_add_timestamps"),
]
HEX_KEY = "3132333435363738393031323334353637383930"


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor


def _old_devices(executor) -> None:
    """A user enrolled before the upgrade: a TOTP device and two backup codes in django-otp's tables."""
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("accounts", "User").objects.create(username="old-timer", role="admin", password="!")
    old.get_model("otp_totp", "TOTPDevice").objects.create(user=user, name="Phone", confirmed=True, key=HEX_KEY)
    static = old.get_model("otp_static", "StaticDevice").objects.create(user=user, name="Codes", confirmed=True)
    for code in ("abcd2345", "efgh6789"):
        old.get_model("otp_static", "StaticToken").objects.create(device=static, token=code)


def _rows(table: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_existing_devices_move_with_the_key_encrypted_and_the_codes_hashed(settings, tmp_path):
    settings.CREDENTIALS_KEY_FILE = tmp_path / "credentials.key"
    _old_devices(_migrate(BEFORE))
    _migrate(None)
    assert _rows("otp_totp_totpdevice") == [] and _rows("otp_static_statictoken") == []
    assert _rows("otp_static_staticdevice") == []
    device = Authenticator.objects.get(user__username="old-timer")
    assert device.key == HEX_KEY and device.name == "Phone" and device.confirmed
    assert HEX_KEY not in str(_rows("accounts_authenticator"))
    stored = str(_rows("accounts_backupcode")) + str(_rows("accounts_backupcodedevice"))
    assert "abcd2345" not in stored and "efgh6789" not in stored
    codes = BackupCodeDevice.objects.get(user__username="old-timer")
    assert codes.verify_token("abcd2345") and not codes.verify_token("abcd2345")  # still works, once
    assert device.verify_token(totp_code(device.bin_key))
