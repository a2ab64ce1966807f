"""Browser sessions as the user sees them: recorded on each request, listed, ended one by one or all at once.

Ending a session also closes, at once, every websocket opened with it: each socket joins its session's
Channels group (accounts/consumers.py) and the ending publishes SESSION_ENDED_EVENT there.
"""

import hashlib
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.utils import timezone

from accounts.models import UserSession
from accounts.net import client_address, user_agent
from casaos_site.events import publish_on_commit

from .audit import audit_record

# Writing "last seen" on every request would make each page a database write.
TOUCH_EVERY = timedelta(seconds=60)
SEEN_SESSION_KEY = "casaos_seen_at"
# The session's websocket group id, kept in the session itself: a cycled key (password change) keeps its sockets.
SOCKET_ID_SESSION_KEY = "casaos_socket_id"
SESSION_ENDED_EVENT = "session.ended"


def _store(session_key: str):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)


def _socket_id(session, key: str) -> str:
    # A digest, not the key: the session key is a credential, and group names end up in Redis.
    return session.get(SOCKET_ID_SESSION_KEY) or hashlib.sha256(key.encode()).hexdigest()[:32]


def session_socket_group(session) -> str | None:
    """The Channels group of every websocket opened with this session (None for a session without a key)."""
    key = session.session_key if session is not None else None
    return f"session.{_socket_id(session, key)}" if key else None


def _close_sockets(group: str | None) -> None:
    if group:
        publish_on_commit(group, SESSION_ENDED_EVENT, {})


def _end(session_key: str) -> None:
    store = _store(session_key)
    group = session_socket_group(store)  # read before the delete: the id lives in the session data
    store.delete()
    _close_sockets(group)


def session_touch(*, request) -> None:
    """Record the request's session under its user (device, address, last seen), at most once a minute."""
    key = request.session.session_key
    if not key:
        return
    # Fixed at the session's first request, so that a cycled key (password change) keeps its sockets' group.
    request.session.setdefault(SOCKET_ID_SESSION_KEY, _socket_id(request.session, key))
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
    """End one of the user's sessions: it is logged out at its next request and its websockets close now."""
    row = UserSession.objects.filter(user=user, session_key=session_key).first()
    if row is None:
        return False
    _end(session_key)
    row.delete()
    audit_record(
        actor=getattr(request, "user", None) or user,
        action="session.ended",
        request=request,
        target=user.get_username(),
    )
    return True


def sessions_end_all(*, user, except_key: str | None = None) -> int:
    """End every session of the user but `except_key` (password change, disable, reset, MFA removal)."""
    rows = UserSession.objects.filter(user=user).exclude(session_key=except_key or "")
    keys = list(rows.values_list("session_key", flat=True))
    for key in keys:
        _end(key)
    rows.delete()
    return len(keys)


def sessions_sockets_close(*, user) -> None:
    """Close the user's open websockets but keep their sessions (a role change): the pages reconnect, and the new
    sockets are authorised with the new role (a socket checks the user it loaded when it connected)."""
    for key in UserSession.objects.filter(user=user).values_list("session_key", flat=True):
        _close_sockets(session_socket_group(_store(key)))


def _rekey(request, old_key: str | None) -> None:
    UserSession.objects.filter(session_key=old_key or "").update(session_key=request.session.session_key)


def session_keep(*, request, user) -> None:
    """Keep this session logged in after its user's password changed; its new key keeps its row and sockets."""
    old_key = request.session.session_key
    update_session_auth_hash(request, user)  # a new key, the same data (with the socket id)
    _rekey(request, old_key)


def session_cycle(*, request) -> None:
    """Give the session a new key, keeping its data, row and sockets: after every step that raises its privilege
    (the OTP step, an enrolment, a step-up), so a key learnt before the step is worth nothing after it."""
    old_key = request.session.session_key
    request.session.cycle_key()
    _rekey(request, old_key)


def session_logout(*, request) -> None:
    """Log this request's session out; its websockets close at once."""
    group = session_socket_group(request.session)
    if request.user.is_authenticated:
        audit_record(action="logout", request=request, target=request.user.get_username())
        UserSession.objects.filter(session_key=request.session.session_key or "").delete()
    auth_logout(request)
    _close_sockets(group)
