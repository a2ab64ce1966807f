"""The official CasaOS store is configured out of the box (it syncs with the first periodic run or on demand)."""

from django.conf import settings
from django.db import migrations


def add_default_store(apps, schema_editor):
    Store = apps.get_model("appstore", "Store")
    url = settings.APPSTORE_DEFAULT_STORE_URL
    if url and not Store.objects.filter(is_default=True).exists():
        Store.objects.create(name="CasaOS official", kind="zip", url=url, is_default=True)


def remove_default_store(apps, schema_editor):
    apps.get_model("appstore", "Store").objects.filter(is_default=True).delete()


class Migration(migrations.Migration):
    dependencies = [("appstore", "0001_initial")]
    operations = [migrations.RunPython(add_default_store, remove_default_store)]
