"""The account page's SMB password form, drawn by the shares app (the account page only names the tag)."""

from django import template

from shares.selectors import smb_state

register = template.Library()


@register.inclusion_tag("shares/_smb_password.html", takes_context=True)
def smb_password_form(context):
    """The signed-in user's own SMB name and password state, and the form to set it."""
    return {"smb": smb_state(context["request"].user), "csrf_token": context.get("csrf_token")}
