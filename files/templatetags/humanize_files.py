"""Template filters of the file manager."""

from datetime import UTC, datetime

from django import template
from django.utils import formats, timezone

register = template.Library()


@register.filter
def epoch(value: float) -> str:
    """A file time (seconds since the epoch) in the site's format and time zone."""
    try:
        moment = datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return ""
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
