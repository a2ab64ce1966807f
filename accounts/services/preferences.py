"""A user's own preferences (the theme): the settings page and the API save them here."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import User


def theme_set(*, user: User, theme: str) -> User:
    """Save the user's theme (system, light or dark); any other value is a ValidationError."""
    if theme not in User.Theme.values:
        raise ValidationError(_("Choose system, light or dark."), code="invalid_theme")
    user.theme = theme
    user.save(update_fields=["theme"])
    return user
