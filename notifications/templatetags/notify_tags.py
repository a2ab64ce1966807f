"""Template filters of the notification centre."""

from django import template

from notifications.rules import RULES

register = template.Library()


@register.filter
def rule_label(kind: str) -> str:
    """A rule's name in the active language (an unknown kind, from a newer version, shows as it is)."""
    spec = RULES.get(kind)
    return str(spec.label) if spec else kind


@register.inclusion_tag("notifications/partials/_bell.html", takes_context=True)
def notify_bell(context) -> dict:
    """The bell of the layout, with the person's count and latest notifications (read only where it is shown)."""
    from notifications.selectors import bell_context

    user, request = context["user"], context.get("request")
    if not getattr(request, "login_complete", False):  # half logged in (the MFA step): its socket would be refused
        return {"user": user, "shown": False}
    return {"user": user, "shown": True, **bell_context(user=user)}
