"""DRF authentication by API token, from the Authorization header only (never a query string)."""

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from .net import client_address
from .services.language import request_language
from .services.lockout import lockout_token_failure
from .services.tokens import TOKEN_PREFIX, api_token_lookup

KEYWORD = "Bearer"
MAX_TOKEN_LENGTH = 200


class APITokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer casa_...`. Garbage in the header is a 401, never a 500."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != KEYWORD.lower():
            if parts and parts[0].lower() == "basic":
                return None  # not ours; DRF answers 401 as for no credentials
            raise exceptions.AuthenticationFailed(_("Invalid Authorization header."))
        return self._check(request, parts[1])

    def _check(self, request, raw: str):
        # A valid token always works: locks from failed passwords or bad tokens are for guesses, not for it.
        token = api_token_lookup(raw=raw) if _well_formed(raw) else None
        if token is None:
            _refuse(request)
        # A read token may only read, whatever the view allows.
        if token.scope == token.Scope.READ and request.method not in ("GET", "HEAD", "OPTIONS"):
            raise exceptions.PermissionDenied(_("This token is read-only."))
        # Token requests skip the session middleware's user: their messages follow the token owner's language.
        translation.activate(request_language(request, token.user))
        return token.user, token

    def authenticate_header(self, request):
        return KEYWORD


def _well_formed(raw: str) -> bool:
    return raw.startswith(TOKEN_PREFIX) and len(raw) <= MAX_TOKEN_LENGTH and raw.isascii()


def _refuse(request):
    """A bad token counts once in its address's token bucket; past that bucket's limit the answer is 429."""
    wait = lockout_token_failure(address=client_address(request), request=request)
    if wait:
        raise exceptions.Throttled(
            wait=wait, detail=str(_("Too many invalid API tokens from this address; try again later."))
        )
    raise exceptions.AuthenticationFailed(_("Invalid or expired token."))
