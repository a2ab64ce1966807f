"""Browser sessions as the user sees them: recorded on each request, listed, ended one by one or all at once."""

from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.utils import timezone

from accounts.models import UserSession
from accounts.net import client_address, user_agent

from .audit import audit_record

# Writing "last seen" on every request would make each page a database write.
TOUCH_EVERY = timedelta(seconds=60)
SEEN_SESSION_KEY = "casaos_seen_at"


def _store(session_key: str):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)


def session_touch(*, request) -> None:
    """Record the request's session under its user (device, address, last seen), at most once a minute."""
    key = request.session.session_key
    if not key:
        return
    now = timezone.now()
    # The key is stored beside the time: a cycled key (login, password change) is recorded at once.
    seen_key, seen_at = request.session.get(SEEN_SESSION_KEY) or ("", 0)
    if seen_key == key and now.timestamp() - seen_at < TOUCH_EVERY.total_seconds():
        return
    fields = {"user": request.user, "address": client_address(request), "last_seen_at": now}
    if agent := user_agent(request):
        fields["user_agent"] = agent
    UserSession.objects.update_or_create(session_key=key, defaults=fields)
    request.session[SEEN_SESSION_KEY] = [key, now.timestamp()]


def session_end(*, user, session_key: str, request=None) -> bool:
    """End one of the user's sessions (it is logged out at its next request)."""
    row = UserSession.objects.filter(user=user, session_key=session_key).first()
    if row is None:
        return False
    _store(session_key).delete()
    row.delete()
    audit_record(actor=getattr(request, "user", None) or user, action="session.ended", request=request,
                 target=user.get_username())
    return True


def sessions_end_all(*, user, except_key: str | None = None) -> int:
    """End every session of the user but `except_key` (password change, disable, reset)."""
    rows = UserSession.objects.filter(user=user).exclude(session_key=except_key or "")
    keys = list(rows.values_list("session_key", flat=True))
    for key in keys:
        _store(key).delete()
    rows.delete()
    return len(keys)
