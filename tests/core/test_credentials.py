"""Stored credentials: encrypted with a key file outside the database, made at first use, rotated without a moment in
which the key file cannot open what the database holds."""

import io
import stat
from unittest import mock

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection, transaction

from accounts.models import Authenticator
from casaos_site import credentials
from casaos_site.credentials import CredentialsKeyError, credentials_check, rotate_key
from casaos_site.management.commands.preflight import Command as Preflight
from casaos_site.secrets import create_once
from tests.factories import UserFactory


@pytest.fixture
def key_file(settings, tmp_path):
    settings.CREDENTIALS_KEY_FILE = tmp_path / "credentials.key"
    return settings.CREDENTIALS_KEY_FILE


@pytest.fixture
def devices(db, key_file):
    return [Authenticator.objects.create(user=UserFactory(), name="phone") for _ in range(3)]


def _stored(device) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM accounts_authenticator WHERE id = %s", [device.pk])
        return cursor.fetchone()[0]


def _store(device, token: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_authenticator SET key = %s WHERE id = %s", [token, device.pk])


def _keys(key_file) -> list[str]:
    return key_file.read_text().split()


def _all_read(devices) -> bool:
    return all(Authenticator.objects.get(pk=d.pk).key == d.key for d in devices)


def test_the_key_file_is_made_private_at_the_first_encryption(db, key_file):
    assert not key_file.exists()
    device = Authenticator.objects.create(user=UserFactory(), name="phone")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(_keys(key_file)) == 1
    stored = _stored(device)
    assert device.key not in stored
    assert Fernet(_keys(key_file)[0]).decrypt(stored.encode()).decode() == device.key


def test_two_processes_making_the_key_at_once_agree_on_one(key_file):
    assert create_once(key_file, "first\n") is True
    assert create_once(key_file, "second\n") is False  # the later one reads the file the first one made
    assert key_file.read_text() == "first\n"
    assert [p.name for p in key_file.parent.iterdir()] == ["credentials.key"]  # no temporary file left


def test_a_database_restored_without_its_key_file_is_never_given_a_new_key(devices, key_file):
    key_file.unlink()
    with pytest.raises(CredentialsKeyError, match="restore the key file"):
        Authenticator.objects.get(pk=devices[0].pk)
    with pytest.raises(CredentialsKeyError, match="restore the key file"), transaction.atomic():
        Authenticator.objects.create(user=devices[0].user, name="another")
    assert not key_file.exists()
    assert "is missing" in credentials_check()


def test_preflight_says_when_the_key_file_cannot_open_the_database(devices, key_file):
    credentials.write_keys([Fernet.generate_key()])  # another install's key file
    assert "cannot decrypt 3 stored credential(s)" in credentials_check()
    UserFactory(admin=True)  # no first-run setup token to print
    err = io.StringIO()
    Preflight(stdout=io.StringIO(), stderr=err)._accounts()  # the part of `manage.py preflight` after the database
    assert "casaos: warning: credentials:" in err.getvalue() and "cannot decrypt" in err.getvalue()


def test_encrypted_columns_cannot_be_searched(devices):
    with pytest.raises(FieldError):
        list(Authenticator.objects.filter(key=devices[0].key))


def test_rotation_reencrypts_everything_and_leaves_one_new_key(devices, key_file):
    old_key, before = _keys(key_file)[0], [_stored(d) for d in devices]
    out = io.StringIO()
    call_command("rotate_credentials_key", stdout=out)
    assert "3 stored credential(s) re-encrypted" in out.getvalue()
    keys = _keys(key_file)
    assert len(keys) == 1 and keys != [old_key]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    for device, token in zip(devices, before, strict=True):
        assert _stored(device) != token
        with pytest.raises(InvalidToken):
            Fernet(old_key).decrypt(_stored(device).encode())
    assert _all_read(devices)


def test_a_rotation_interrupted_midway_leaves_everything_readable_and_finishes_when_run_again(devices, key_file):
    old_key, before = _keys(key_file)[0], [_stored(d) for d in devices]
    real, calls = credentials._reencrypt, []

    def dies_on_the_second_column(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    # Two encrypted columns: the interruption comes after the first one is re-encrypted.
    columns = [(Authenticator, "key"), (Authenticator, "key")]
    with (
        mock.patch.object(credentials, "_columns", lambda: iter(columns)),
        mock.patch.object(credentials, "_reencrypt", dies_on_the_second_column),
        pytest.raises(KeyboardInterrupt),
    ):
        rotate_key()
    assert [_stored(d) for d in devices] == before  # the transaction rolled back whole
    keys = _keys(key_file)
    assert len(keys) == 2 and keys[1] == old_key and credentials_check() is None and _all_read(devices)
    rotate_key()
    assert len(_keys(key_file)) == 1 and _keys(key_file)[0] not in keys
    assert credentials_check() is None and _all_read(devices)


def _write_with(old_key: str, device) -> None:
    """What a process that read the key file before the rotation began would write."""
    _store(device, Fernet(old_key).encrypt(device.key.encode()).decode())


def test_a_row_written_with_the_old_key_during_the_rotation_is_caught_before_the_old_key_goes(devices, key_file):
    old_key = _keys(key_file)[0]
    real = credentials.reencrypt_all

    def then_a_late_writer():
        count = real()
        _write_with(old_key, devices[1])
        return count

    with mock.patch.object(credentials, "reencrypt_all", then_a_late_writer):
        rotate_key()
    assert _keys(key_file) != [old_key] and len(_keys(key_file)) == 1
    assert credentials_check() is None and _all_read(devices)


def test_a_row_written_with_the_old_key_right_at_the_swap_brings_the_old_key_back_for_a_round(devices, key_file):
    old_key = _keys(key_file)[0]
    real, swaps = credentials.write_keys, []

    def swap_then_a_late_writer(keys):
        real(keys)
        if len(keys) == 1:
            swaps.append(keys)
            if len(swaps) == 1:
                _write_with(old_key, devices[2])

    with mock.patch.object(credentials, "write_keys", swap_then_a_late_writer):
        rotate_key()
    assert len(swaps) == 2 and len(_keys(key_file)) == 1
    assert credentials_check() is None and _all_read(devices)
