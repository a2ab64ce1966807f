from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("proxy", "0002_proxy_settings_sso"),
    ]

    operations = [
        migrations.AddField(
            model_name="appaddress",
            name="mode",
            field=models.CharField(
                choices=[
                    ("name", "By its own name: https://<name>.<domain>"),
                    ("path", "By a path on the admin's address: https://<domain>/<name>/"),
                ],
                default="name",
                max_length=8,
            ),
        ),
    ]
