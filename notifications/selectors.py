"""What the bell and the pages show."""

from accounts.models import User

from .services import LIST_LIMIT, notifications_of, unread_count


def bell_context(*, user: User) -> dict:
    """The bell's unread count and the latest notifications."""
    return {"unread": unread_count(user=user), "latest": list(notifications_of(user=user)[:LIST_LIMIT])}
