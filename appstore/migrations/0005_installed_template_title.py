"""The store's title per locale on each installed template, filled for apps installed before."""

from django.db import migrations, models


def _compose_title(compose: str) -> dict:
    """The x-casaos title of an installed compose document (the template's own, as the store wrote it)."""
    from appstore.parsing import localised
    from runtime.compose import ComposeError, load_yaml

    try:
        meta = load_yaml(compose).get("x-casaos")
    except (ComposeError, AttributeError):
        return {}
    return localised(meta.get("title")) if isinstance(meta, dict) else {}


def fill_titles(apps, schema_editor):
    InstalledTemplate = apps.get_model("appstore", "InstalledTemplate")
    CatalogApp = apps.get_model("appstore", "CatalogApp")
    for record in InstalledTemplate.objects.select_related("installation"):
        app = CatalogApp.objects.filter(store_id=record.store_id, store_app_id=record.store_app_id).first()
        record.title = dict(app.title) if app else _compose_title(record.installation.compose)
        if record.title:
            record.save(update_fields=["title"])


class Migration(migrations.Migration):
    dependencies = [
        ("appstore", "0004_store_error_code"),
    ]

    operations = [
        migrations.AddField(
            model_name="installedtemplate",
            name="title",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(fill_titles, migrations.RunPython.noop),
    ]
