"""Template helpers of the app store: the locale pick, sanitised Markdown, asset URLs."""

import markdown as md
import nh3
from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from appstore.parsing import pick

register = template.Library()

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "code",
    "pre",
    "ul",
    "ol",
    "li",
    "a",
    "blockquote",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
}


@register.filter
def loc(texts) -> str:
    """A localised field in the UI language, falling back to en_US."""
    return pick(texts if isinstance(texts, dict) else {}, get_language() or "en")


@register.filter
def markdown_safe(text: str) -> str:
    """Markdown rendered, then sanitised: no raw HTML, no scripts, links only to http(s) and mail."""
    html = md.markdown(text or "", extensions=["sane_lists", "tables"], output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)


@register.filter
def asset_url(name: str) -> str:
    return reverse("appstore-asset", args=[name]) if name else ""


@register.simple_tag
def icon_url(app) -> str:
    """The app's icon from our own origin, or its generated placeholder."""
    if app.icon:
        return reverse("appstore-asset", args=[app.icon])
    return reverse("appstore-placeholder", args=[app.pk])


@register.filter
def install_group(form, kind: str):
    """The bound fields of one kind (port, volume, env) of an install form."""
    return form.group(kind)
