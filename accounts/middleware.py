"""Request guards: first-run setup, the MFA step, session tracking, and the Content-Security-Policy header."""

import secrets
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .permissions import MFA_PENDING_SESSION_KEY, session_mfa_satisfied
from .selectors import admin_mfa_required
from .services.language import request_language
from .services.sessions import session_touch
from .services.setup import setup_mode


def _public_asset(path: str) -> bool:
    """Static files and the JavaScript catalog: the same for everyone, no user data; the setup, login and MFA
    pages load them too, so no gate may send them to a page (a browser refuses HTML for a script). The installable
    app's manifest and service worker are such assets: a browser refuses a service worker behind a redirect."""
    assets = (reverse("javascript-catalog"), reverse("pwa-manifest"), reverse("pwa-service-worker"))
    return path.startswith(settings.STATIC_URL) or path in assets


def _refuse(request, url: str, message: str):
    """Pages get a redirect, HTMX a client-side redirect, the API a JSON 403."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=403)
    if getattr(request, "htmx", None):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


class FirstRunMiddleware:
    """Setup mode: from the moment the server prints a setup token until the first admin exists, every page
    leads to the setup page (the API answers as usual: nobody can log in yet)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        open_paths = (reverse("setup"), reverse("healthz"), "/api/", "/favicon.ico")
        if not _public_asset(path) and not path.startswith(open_paths) and setup_mode():
            return redirect("setup")
        return self.get_response(request)


class UserLanguageMiddleware:
    """After authentication: a logged-in user's own language wins over the browser's (LocaleMiddleware's guess)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.LANGUAGE_CODE = request_language(request, request.user)
        translation.activate(request.LANGUAGE_CODE)
        return self.get_response(request)


class MFAGateMiddleware:
    """A session that gave the password but not its OTP code reaches only the MFA step (and logging out).

    Admins who must use MFA but have not enrolled reach only the enrolment page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not _public_asset(request.path):
            response = self._gate(request, user)
            if response is not None:
                return response
            session_touch(request=request)
        return self.get_response(request)

    def _gate(self, request, user):
        must_enrol = not user.mfa_enabled and user.is_admin and admin_mfa_required()
        if must_enrol:
            request.session[MFA_PENDING_SESSION_KEY] = True
            allowed = (reverse("settings-mfa"), reverse("logout"))
            url = reverse("settings-mfa") + "?" + urlencode({"next": request.get_full_path()})
        elif not session_mfa_satisfied(user, request.session) or (user.mfa_enabled and not user.is_verified()):
            allowed = (reverse("login-otp"), reverse("logout"))
            url = reverse("login-otp") + "?" + urlencode({"next": request.get_full_path()})
        else:
            request.login_complete = True  # the layout shows what needs a whole login (the bell's socket) only then
            return None
        if request.path in allowed:
            return None
        return _refuse(request, url, _("Finish logging in: the second step (MFA) is missing."))


INLINE_STYLE_PREFIXES = ("/api/",)


class CspNonce:
    """This response's style nonce, made when a template first renders it; the policy names it only then."""

    value = ""

    def __str__(self) -> str:
        if not self.value:
            self.value = secrets.token_urlsafe(18)
        return self.value


def csp_style_attributes(view):
    """Allow style attributes on the view's page: a vendored script there styles its elements with them (xterm.js
    colours 24-bit text this way). Style elements still need the nonce, and scripts stay 'self'."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.csp_style_attributes = True
        return response

    return wrapped


class ContentSecurityPolicyMiddleware:
    """A strict CSP on every response: our own scripts and styles only, websockets to ourselves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = CspNonce()
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy(request, response)
        return response

    @staticmethod
    def policy(request, response) -> str:
        # Chromium does not let 'self' cover ws:/wss: in every version: name our own host's socket explicitly.
        scheme = "wss" if request.is_secure() else "ws"
        socket = f"{scheme}://{request.get_host()}"
        return "; ".join(
            (
                "default-src 'self'",
                "script-src 'self'",
                *_style_sources(request, response),
                "img-src 'self' data:",
                "font-src 'self'",
                f"connect-src 'self' {socket}",
                "object-src 'none'",
                "base-uri 'none'",
                "form-action 'self'",
                "frame-ancestors 'none'",
            )
        )


def _style_sources(request, response) -> list[str]:
    """Our own stylesheets; <style> elements carrying the nonce if the page rendered one; attributes on request."""
    # The third-party pages under /api/ (DRF's browsable API, Swagger UI) set inline styles; styles only,
    # scripts stay 'self' everywhere. Our own templates never need this.
    if request.path.startswith(INLINE_STYLE_PREFIXES):
        return ["style-src 'self' 'unsafe-inline'"]
    nonce = request.csp_nonce.value
    sources = [f"style-src 'self' 'nonce-{nonce}'" if nonce else "style-src 'self'"]
    if getattr(response, "csp_style_attributes", False):
        sources.append("style-src-attr 'unsafe-inline'")
    return sources
