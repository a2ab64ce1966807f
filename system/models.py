"""The one row of site-wide system settings an admin changes on Settings → System."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SystemSettings(models.Model):
    """Site-wide settings (pk=1); blank means "as the environment says" (CASAOS_TZ, CASAOS_BIND, English)."""

    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    language = models.CharField(_("default language"), max_length=16, blank=True, choices=settings.LANGUAGES)
    # What the web server listens on from its next start; `web_bind_running` is what the running one took.
    web_bind = models.CharField(_("web address"), max_length=64, blank=True)
    web_bind_running = models.CharField(_("web address in use"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("system settings")
        verbose_name_plural = _("system settings")

    def __str__(self) -> str:
        return str(_("System settings"))

    @classmethod
    def load(cls) -> "SystemSettings":
        """The settings row, created on first use."""
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj
