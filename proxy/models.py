"""How each app is reached from outside the box: the reverse proxy's name for it, our login in front of it, and
whether its ports are open beyond the LAN (the firewall reads `public`)."""

from django.db import models


class AppAddress(models.Model):
    """An app's address: `https://<name>.<box domain>`, guarded by our login or not, LAN-only or public."""

    installation = models.OneToOneField("apps.Installation", on_delete=models.CASCADE, related_name="address")
    name = models.SlugField(max_length=63, unique=True, help_text="a DNS label: the app is served at <name>.<domain>")
    require_login = models.BooleanField(default=False)
    public = models.BooleanField(default=False, help_text="its published ports are open beyond the LAN")

    def __str__(self) -> str:
        return self.name
