"""API tokens: named, scoped, optionally expiring; shown once, stored as a SHA-256 digest (SECURITY.md lesson 9)."""

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from accounts.models import APIToken

from .audit import audit_record

TOKEN_PREFIX = "casa_"
# Recording "last used" on every call would turn each read into a write.
LAST_USED_EVERY = timedelta(seconds=60)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def api_token_create(*, user, name: str, scope: str, expires_at=None, request=None) -> tuple[APIToken, str]:
    """Create a token; returns the row and the token itself, which is never stored or shown again."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = APIToken.objects.create(
        user=user, name=name, scope=scope, prefix=raw[:12], digest=token_digest(raw), expires_at=expires_at
    )
    audit_record(
        actor=user,
        action="token.created",
        request=request,
        target=f"{name} ({token.prefix}…)",
        details={"scope": scope, "expires_at": expires_at.isoformat() if expires_at else None},
    )
    return token, raw


def api_token_revoke(*, token: APIToken, actor, request=None) -> None:
    """Revoke a token at once; the row stays for the record."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="token.revoked",
        request=request,
        target=f"{token.name} ({token.prefix}…)",
        details={"owner": token.user.get_username()},
    )


def api_tokens_revoke_all(*, user, reason: str, actor=None, request=None) -> int:
    """Revoke every live token of the user (their password was set, or an admin removed their MFA): a token made by
    whoever had the old credentials must not outlive them."""
    tokens = list(APIToken.objects.filter(user=user, revoked_at__isnull=True))
    now = timezone.now()
    APIToken.objects.filter(pk__in=[t.pk for t in tokens]).update(revoked_at=now)
    for token in tokens:
        audit_record(
            actor=actor,
            action="token.revoked",
            request=request,
            target=f"{token.name} ({token.prefix}…)",
            details={"owner": user.get_username(), "reason": reason},
        )
    return len(tokens)


def api_token_lookup(*, raw: str) -> APIToken | None:
    """The usable token matching `raw` (not revoked, not expired, active owner), recording its use."""
    token = APIToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
    now = timezone.now()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        APIToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
