"""The admin's storage settings: automount of plugged-in disks, and the disk-full warning threshold."""

from __future__ import annotations

from accounts.services.audit import audit_record

from .models import StorageSettings

FIELDS = ("automount", "full_threshold")


def storage_settings_update(*, user, request=None, **changes) -> StorageSettings:
    """Change the settings given (the others stay), audited."""
    obj = StorageSettings.load()
    changed = {name: value for name, value in changes.items() if name in FIELDS}
    for name, value in changed.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save(update_fields=list(changed) or None)
    audit_record(actor=user, action="storage.settings", request=request, details=changed)
    return obj
