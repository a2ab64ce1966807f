"""The home page's widgets: which exist, and which each user turned off."""

from django.utils.translation import gettext_lazy as _

# Keys as stored in accounts.User.hidden_widgets and as the widgets fragment marks its parts (data-widget).
WIDGETS = {
    "cpu": _("CPU"),
    "memory": _("Memory"),
    "disks": _("Disks"),
    "network": _("Network"),
    "temperature": _("CPU temperature"),
    "uptime": _("Uptime"),
    "history": _("History charts"),
}


def widgets_of(*, user) -> list[dict]:
    """Every widget with whether this user shows it, in page order."""
    hidden = set(user.hidden_widgets or ())
    return [{"key": key, "label": label, "shown": key not in hidden} for key, label in WIDGETS.items()]


def widgets_show(*, user, shown: list[str]) -> list[str]:
    """Show exactly these widgets (unknown keys are ignored); returns the hidden ones, as saved."""
    hidden = [key for key in WIDGETS if key not in set(shown)]
    user.hidden_widgets = hidden
    user.save(update_fields=["hidden_widgets"])
    return hidden
