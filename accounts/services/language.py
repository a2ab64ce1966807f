"""Which language a person sees: their own choice, else the login page's cookie, else the site's default (Settings →
System), else the browser's Accept-Language, else English. Pages, the API and websocket fragments all resolve it here."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import trans_real

from accounts.models import User


def language_supported(code: str) -> str | None:
    """The LANGUAGES code that serves `code` (zh-Hans, zh-cn, de-AT...), or None."""
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def language_from_accept(header: str) -> str | None:
    """The first language of an Accept-Language header that we speak."""
    for code, _quality in trans_real.parse_accept_lang_header(header or ""):
        if code != "*" and (found := language_supported(code)):
            return found
    return None


def language_resolve(*, user, cookie: str = "", accept: str = "") -> str:
    """The user's saved language, else the cookie's, else the site's default (Settings → System), else the
    browser's, else English."""
    from system.selectors import default_language

    own = getattr(user, "language", "") if getattr(user, "is_authenticated", False) else ""
    chosen = own or (cookie and language_supported(cookie)) or default_language() or language_from_accept(accept)
    return chosen or settings.LANGUAGE_CODE


def request_language(request, user) -> str:
    """The language for a request by `user`: theirs, else the login page's cookie, else Accept-Language."""
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    return language_resolve(user=user, cookie=cookie, accept=request.headers.get("Accept-Language", ""))


def scope_language(scope: dict) -> str:
    """The same for a websocket: its user, cookie and Accept-Language header."""
    headers = dict(scope.get("headers") or [])
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    cookie = (scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME, "")
    return language_resolve(user=scope.get("user"), cookie=cookie, accept=accept)


def user_language_set(*, user: User, language: str) -> None:
    """Save a user's language ("" = follow the browser); ValueError for a language we do not speak."""
    if language and language not in {code for code, _name in settings.LANGUAGES}:
        raise ValueError(language)
    user.language = language
    user.save(update_fields=["language"])
