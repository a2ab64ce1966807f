"""Single sign-on in front of apps: the forward-auth decision, and the hand-over of a logged-in session from the
admin's domain to an app's domain.

App domains differ from the admin's, so no cookie is shared between them. Instead:
1. Caddy asks `/proxy/auth/` about a visitor of `<app>.<domain>`; without a valid `casaos_sso` cookie of that app
   the answer is a redirect to `/proxy/start/` on the admin's domain (our login, with MFA, if needed).
2. `/proxy/start/` checks that the user may open the app and sends them to the app's callback with a one-time
   ticket that lives a minute.
3. The callback (`/__casaos_sso/` on the app's domain, answered by our server through Caddy) redeems the ticket
   once and sets `casaos_sso` on the app's domain only: an app session tied to the admin session it came from.
Only hashes of tickets and app sessions are stored. A decision is kept PROXY_AUTH_CACHE seconds per app session.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.models import AppGrant

from .host.config import SSO_COOKIE, SSO_PATH
from .models import AppAddress, AppSession, ProxySettings, SsoTicket
from .selectors import address_url, proxy_domain
from .services import ProxyRefused

COOKIE = SSO_COOKIE
TICKET_SECONDS = 60
_CACHE_MAX = 10_000
_decisions: dict[tuple[str, str], tuple[float, str | None]] = {}  # (digest, app) -> (until, username or None)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_may_open(user, address: AppAddress) -> bool:
    """Admins, and members granted the app."""
    if not (user and user.is_active):
        return False
    return user.is_admin or AppGrant.objects.filter(installation_id=address.installation_id, user=user).exists()


# ---------------------------------------------------------------------------- the return address
def sso_target(next_url: str) -> tuple[AppAddress, str]:
    """The app address and path a `next` URL names; refused unless it is one of our app addresses (no open
    redirect: any other host, scheme, user info or a path that is not a plain absolute path)."""
    refused = ProxyRefused(_("This is not the address of an app on this box."), field="next")
    try:
        parts = urlsplit(next_url)
        port = parts.port
    except ValueError as exc:
        raise refused from exc
    host = (parts.hostname or "").lower()
    suffix = "." + proxy_domain(ProxySettings.load())
    if parts.scheme not in ("http", "https") or parts.username or parts.password or not host.endswith(suffix):
        raise refused
    # An app reached by a path has no host of its own: the hand-over is only for names.
    named = AppAddress.objects.filter(name=host.removesuffix(suffix), mode=AppAddress.Mode.NAME)
    address = named.select_related("installation").first()
    if address is None or port not in (None, settings.PROXY_HTTP_PORT, settings.PROXY_HTTPS_PORT):
        raise refused
    return address, safe_path(parts.path, parts.query)


def safe_path(path: str, query: str) -> str:
    """A path on the app's own host: never `//host` or `/\\host`, which browsers read as another host."""
    if not path.startswith("/") or path.startswith(("//", "/\\")) or any(c in path for c in "\r\n\t"):
        path = "/"
    return f"{path}?{query}" if query else path


# ---------------------------------------------------------------------------- tickets
def sso_ticket_issue(*, user, session_key: str, address: AppAddress, next_path: str) -> str:
    """A one-time ticket for this user's session on this app; returns the app callback's URL carrying it."""
    token = secrets.token_urlsafe(32)
    SsoTicket.objects.create(
        digest=digest(token),
        address=address,
        user=user,
        session_key=session_key,
        next_path=next_path[:2000],
        expires_at=timezone.now() + timedelta(seconds=TICKET_SECONDS),
    )
    return f"{address_url(address)}{SSO_PATH}?{urlencode({'ticket': token})}"


@dataclass(frozen=True)
class Redeemed:
    cookie: str
    next_path: str
    max_age: int


def sso_ticket_redeem(*, token: str, app: str) -> Redeemed | None:
    """Use a ticket once, on the app it was made for; an app session (its cookie) comes back, or None."""
    now = timezone.now()
    with transaction.atomic():
        ticket = (
            SsoTicket.objects.select_for_update()
            .select_related("user", "address")
            .filter(digest=digest(token), address__name=app, expires_at__gt=now)
            .first()
        )
        if ticket is None:
            return None
        ticket.delete()  # used once, whatever follows
        expires = _session_expiry(ticket.session_key, now)
        if expires is None or not user_may_open(ticket.user, ticket.address):
            return None
        cookie = secrets.token_urlsafe(32)
        AppSession.objects.create(
            digest=digest(cookie), address=ticket.address, user=ticket.user, session_key=ticket.session_key,
            expires_at=expires,
        )  # fmt: skip
    return Redeemed(cookie, ticket.next_path, int((expires - now).total_seconds()))


def _session_expiry(session_key: str, now):
    """The app session ends at PROXY_SSO_DAYS, or with the admin session it came from if that ends sooner."""
    admin_end = Session.objects.filter(session_key=session_key, expire_date__gt=now).values_list(
        "expire_date", flat=True
    )
    admin_end = admin_end.first()
    if admin_end is None:
        return None
    return min(admin_end, now + timedelta(days=settings.PROXY_SSO_DAYS))


# ---------------------------------------------------------------------------- the decision
def path_decide(*, session_key: str, address: AppAddress) -> tuple[str, str | None]:
    """An app reached by a path shares the admin's origin and so its session: ("in", username) when that session is
    a whole login (its MFA step done) of a user who may open the app; ("login", None) to log in first; ("refused",
    None) for a logged-in user without the grant."""
    user = _session_user(session_key) if session_key else None
    if user is None:
        return "login", None
    return ("in", user.get_username()) if user_may_open(user, address) else ("refused", None)


def _session_user(session_key: str):
    """The user of a complete login in that session (Django's own checks: the session's auth hash), else None."""
    from importlib import import_module
    from types import SimpleNamespace

    from django.contrib.auth import get_user
    from django_otp.middleware import OTPMiddleware

    from accounts.permissions import session_mfa_satisfied

    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    visit = SimpleNamespace(session=store)
    user = get_user(visit)
    if not (user.is_authenticated and user.is_active) or not session_mfa_satisfied(user, store):
        return None
    # What the MFA gate checks on every page: the session's OTP device is this user's, confirmed, still there.
    user = OTPMiddleware(lambda request: None)._verify_user_sync(visit, user)
    if (user.mfa_enabled and not user.is_verified()) or _must_enrol(user):
        return None
    return user


def _must_enrol(user) -> bool:
    from accounts.selectors import admin_mfa_required

    return user.is_admin and not user.mfa_enabled and admin_mfa_required()


def auth_decide(*, cookie: str, app: str) -> str | None:
    """The user name whose app session `cookie` is on `app`, if they may still open it; None otherwise."""
    if not cookie:
        return None
    key = (digest(cookie), app)
    now = time.monotonic()
    cached = _decisions.get(key)
    if cached and cached[0] > now:
        return cached[1]
    username = _decide(key[0], app)
    if len(_decisions) >= _CACHE_MAX:
        _decisions.clear()
    _decisions[key] = (now + settings.PROXY_AUTH_CACHE, username)
    return username


def _decide(cookie_digest: str, app: str) -> str | None:
    now = timezone.now()
    found = (
        AppSession.objects.select_related("user", "address")
        .filter(digest=cookie_digest, address__name=app, address__mode=AppAddress.Mode.NAME, expires_at__gt=now)
        .first()
    )
    if found is None or not Session.objects.filter(session_key=found.session_key, expire_date__gt=now).exists():
        return None
    return found.user.get_username() if user_may_open(found.user, found.address) else None


def auth_forget() -> None:
    """Drop every cached decision (tests; a process that must see a revocation at once)."""
    _decisions.clear()


def sso_cleanup() -> None:
    now = timezone.now()
    SsoTicket.objects.filter(expires_at__lte=now).delete()
    AppSession.objects.filter(expires_at__lte=now).delete()


def sso_start_url(address: AppAddress, uri: str) -> str:
    """Where a visitor without an app session goes: /proxy/start/ on the admin's domain, back to `uri` after."""
    from .selectors import proxy_admin_url

    path = uri if uri.startswith("/") and not uri.startswith("//") else "/"
    back = address_url(address) + path
    return f"{proxy_admin_url()}/proxy/start/?{urlencode({'next': back})}"
