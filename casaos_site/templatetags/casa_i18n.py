"""`{{ row.message|shown }}`: a message a task stored (casaos_site/i18n.py), in the reader's language."""

from django import template

from casaos_site.i18n import shown as shown_message

register = template.Library()


@register.filter
def shown(text) -> str:
    """The stored message translated into the active language."""
    return shown_message(str(text or ""))
