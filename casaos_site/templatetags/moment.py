"""The one way a page shows a time: `{{ value|when }}` renders <time datetime="ISO" data-when>fallback</time>.

The fallback is the absolute time in the site's format (pages without JavaScript, screen readers before it runs);
static/js/casa.js turns it into a relative time in the page's language with the absolute one, in the browser's own
time zone, as its title. `{{ value|when:"date" }}` shows a date only (expiry dates).
"""

from datetime import UTC, datetime

from django import template
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html

register = template.Library()

FALLBACK_FORMATS = {"": "SHORT_DATETIME_FORMAT", "date": "SHORT_DATE_FORMAT"}


def as_datetime(value) -> datetime | None:
    """An aware datetime from a datetime, an ISO string or seconds since the epoch (file times); None if none."""
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, str):
        parsed = parse_datetime(value)
        return as_datetime(parsed) if parsed else None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


@register.filter(is_safe=True)
def when(value, style: str = "") -> str:
    """A <time> element for the value, or "" when it is not a time."""
    moment = as_datetime(value)
    if moment is None or style not in FALLBACK_FORMATS:
        return ""
    fallback = formats.date_format(timezone.localtime(moment), FALLBACK_FORMATS[style])
    return format_html(
        '<time datetime="{}" data-when="{}">{}</time>', moment.astimezone(UTC).isoformat(), style, fallback
    )
