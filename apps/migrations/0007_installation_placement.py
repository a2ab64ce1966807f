from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("apps", "0006_installation_seed"),
    ]

    operations = [
        migrations.AddField(
            model_name="installation",
            name="placement",
            field=models.JSONField(blank=True, default=dict, verbose_name="where it runs"),
        ),
    ]
