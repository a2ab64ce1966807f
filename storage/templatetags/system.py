"""Template filters of the system figures."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def uptime(seconds) -> str:
    """A duration as the two largest units: "3 d 4 h", "4 h 12 min", "12 min"."""
    try:
        minutes = int(float(seconds)) // 60
    except (TypeError, ValueError):
        return ""
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": mins}
    return _("%(m)s min") % {"m": mins}
