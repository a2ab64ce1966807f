"""The Settings → System form: what the page posts; the service checks each value again (the API's path too)."""

import zoneinfo
from functools import cache

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .logs import LEVELS, PROCESSES


@cache
def zone_choices() -> list[tuple[str, str]]:
    return [(zone, zone) for zone in sorted(zoneinfo.available_timezones())]


class SystemSettingsForm(forms.Form):
    """Host name, time zone, default language, web address and automount."""

    hostname = forms.CharField(label=_("Host name"), max_length=253, help_text=_("The box's name on your network."))
    time_zone = forms.ChoiceField(
        label=_("Time zone"), choices=zone_choices, help_text=_("The host's, and the TZ apps get at their next change.")
    )
    language = forms.ChoiceField(
        label=_("Default language"),
        choices=lambda: [("", _("Follow each browser")), *settings.LANGUAGES],  # read when a form is made
        required=False,
        help_text=_("For everyone who has not chosen a language under Settings → Account."),
    )
    web_bind = forms.CharField(
        label=_("Web address"),
        max_length=64,
        help_text=_("ADDRESS:PORT the web admin listens on from its next start, checked first."),
    )
    automount = forms.BooleanField(
        label=_("Mount disks when they are plugged in"), required=False, help_text=_("The Storage page's setting.")
    )


class LogFilterForm(forms.Form):
    """The Logs page's filters."""

    level = forms.ChoiceField(
        label=_("Level"), choices=[("", _("All levels"))] + [(lv, lv.title()) for lv in LEVELS], required=False
    )
    process = forms.ChoiceField(
        label=_("Process"), choices=[("", _("All processes"))] + [(p, p) for p in PROCESSES], required=False
    )
    q = forms.CharField(label=_("Text"), max_length=200, required=False)
    live = forms.BooleanField(label=_("Live"), required=False)
