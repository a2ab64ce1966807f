"""Move every TOTP device and backup code from django-otp's own tables, where they were in clear, into ours: the
TOTP key encrypted with the credentials key, each backup code as a salted hash. The old rows are then deleted (with
SQLite's secure_delete, which overwrites what they held).

Sessions verified with an old device are asked for a code once more at their next request."""

import secrets

from django.db import migrations

from casaos_site.credentials import code_digest

TOTP_FIELDS = ("key", "step", "t0", "digits", "tolerance", "drift", "last_t")
DEVICE_FIELDS = ("user_id", "name", "confirmed", "throttling_failure_timestamp", "throttling_failure_count", "last_used_at")


def _copy(old, fields) -> dict:
    return {name: getattr(old, name) for name in fields}


def _move_totp(apps) -> None:
    old_model = apps.get_model("otp_totp", "TOTPDevice")
    new_model = apps.get_model("accounts", "Authenticator")
    for old in old_model.objects.all():
        new = new_model.objects.create(**_copy(old, DEVICE_FIELDS + TOTP_FIELDS))
        new_model.objects.filter(pk=new.pk).update(created_at=old.created_at)
    old_model.objects.all().delete()


def _move_backup_codes(apps) -> None:
    old_model = apps.get_model("otp_static", "StaticDevice")
    old_codes = apps.get_model("otp_static", "StaticToken")
    new_model = apps.get_model("accounts", "BackupCodeDevice")
    new_codes = apps.get_model("accounts", "BackupCode")
    for old in old_model.objects.all():
        new = new_model.objects.create(salt=secrets.token_hex(16), **_copy(old, DEVICE_FIELDS))
        new_model.objects.filter(pk=new.pk).update(created_at=old.created_at)
        codes = old_codes.objects.filter(device=old).values_list("token", flat=True)
        new_codes.objects.bulk_create([new_codes(device=new, digest=code_digest(code, new.salt)) for code in codes])
    old_codes.objects.all().delete()
    old_model.objects.all().delete()


def move_devices(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("PRAGMA secure_delete = ON")
    _move_totp(apps)
    _move_backup_codes(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_mfa_devices_encrypted"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(move_devices, migrations.RunPython.noop)]
