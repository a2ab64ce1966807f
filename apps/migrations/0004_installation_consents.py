"""Consent records: apps installed before them keep what they run (the record says so), by their installer."""

from django.db import migrations, models
from django.utils import timezone


def mark_existing(apps, schema_editor):
    """Each existing app: one record holding anything its configuration has now ("*"), approved by its installer."""
    Installation = apps.get_model("apps", "Installation")
    now = timezone.now().isoformat()
    for inst in Installation.objects.all():
        by = inst.requested_by.get_username() if inst.requested_by_id else ""
        record = {"items": ["*"], "by": by, "by_id": inst.requested_by_id, "at": now, "operation": "before records"}
        Installation.objects.filter(pk=inst.pk).update(consents=[record])


class Migration(migrations.Migration):
    dependencies = [("apps", "0003_appevent_cancelled_outcome")]

    operations = [
        migrations.AddField(
            model_name="installation",
            name="consents",
            field=models.JSONField(blank=True, default=list, verbose_name="consents to host access"),
        ),
        migrations.RunPython(mark_existing, migrations.RunPython.noop),
    ]
