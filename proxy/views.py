"""The proxy's pages: forward auth and the session hand-over (answered through Caddy), the Settings → Proxy page,
the internal CA's root certificate, and an app's address form. Thin: every write goes through services."""

from __future__ import annotations

import hmac
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from accounts.permissions import admin_required, member_required
from apps.selectors import app_card, app_get_for

from .forms import AddressForm, ProxySettingsForm
from .host.config import APP_HEADER, SECRET_HEADER, SESSION_HEADER, USER_HEADER
from .models import AppAddress
from .selectors import address_view, proxy_root_certificate, proxy_secret, proxy_settings_view
from .services import ProxyRefused, address_update, proxy_settings_update
from .sso import (
    COOKIE,
    auth_decide,
    path_decide,
    safe_path,
    sso_start_url,
    sso_target,
    sso_ticket_issue,
    sso_ticket_redeem,
    user_may_open,
)


def _from_caddy(request) -> str | None:
    """The app Caddy asks about, when the request carries Caddy's secret; None for anyone else (a visitor who
    reached our server directly, whatever X-Forwarded-* or X-Casaos-* headers they made up)."""
    sent = request.headers.get(SECRET_HEADER, "")
    if not sent or not hmac.compare_digest(sent, proxy_secret()):
        return None
    return request.headers.get(APP_HEADER, "") or None


# ---------------------------------------------------------------------------- forward auth (Caddy -> us)
@csrf_exempt  # Caddy asks with the visitor's method; nothing is written
@never_cache
def forward_auth(request):
    """200 (with the user's name) when the visitor's app session may open the app; else to our login."""
    app = _from_caddy(request)
    if app is None:
        return HttpResponse(_("Only the proxy may ask this."), status=403, content_type="text/plain")
    username = auth_decide(cookie=request.COOKIES.get(COOKIE, ""), app=app)
    if username is not None:
        return _let_in(username)
    address = AppAddress.objects.filter(name=app).first()
    if address is None:
        raise Http404
    if address.mode == AppAddress.Mode.PATH:
        return _path_decision(request, address)
    return HttpResponseRedirect(sso_start_url(address, request.headers.get("X-Forwarded-Uri", "/")))


def _let_in(username: str) -> HttpResponse:
    response = HttpResponse(status=200)
    response[USER_HEADER] = username
    return response


def _path_decision(request, address: AppAddress) -> HttpResponse:
    """An app on the admin's origin: its session decides (Caddy sends the key in its own header, never a cookie)."""
    verdict, username = path_decide(session_key=request.headers.get(SESSION_HEADER, ""), address=address)
    if verdict == "in":
        return _let_in(username)
    if verdict == "refused":
        message = _("You have no access to this app. An administrator can let you see it.")
        return render(request, "proxy/sso_refused.html", {"message": message}, status=403)
    back = safe_path(*request.headers.get("X-Forwarded-Uri", "/").partition("?")[::2])
    return HttpResponseRedirect(f"{reverse('login')}?{urlencode({'next': back})}")


@member_required
@require_GET
@never_cache
def sso_start(request):
    """On the admin's domain, logged in (with MFA): hand this session to the app with a one-time ticket."""
    try:
        address, path = sso_target(request.GET.get("next", ""))
    except ProxyRefused as exc:
        return render(request, "proxy/sso_refused.html", {"message": exc.message}, status=400)
    if not user_may_open(request.user, address):
        message = _("You have no access to this app. An administrator can let you see it.")
        return render(request, "proxy/sso_refused.html", {"message": message}, status=403)
    url = sso_ticket_issue(user=request.user, session_key=request.session.session_key, address=address, next_path=path)
    # A page that moves on by itself, not a redirect: after the login form, a redirect chain leaving our origin is
    # blocked by the browser (CSP form-action 'self' covers the whole chain of a form's submission).
    return render(request, "proxy/sso_continue.html", {"url": url, "app": address.installation})


@require_GET
@never_cache
def sso_callback(request):
    """On the app's domain (through Caddy): redeem the ticket once and set the app session's cookie there."""
    app = _from_caddy(request)
    if app is None:
        return HttpResponse(_("Only the proxy may ask this."), status=403, content_type="text/plain")
    redeemed = sso_ticket_redeem(token=request.GET.get("ticket", ""), app=app)
    if redeemed is None:
        message = _("This sign-in link has expired or was already used. Open the app again.")
        return render(request, "proxy/sso_refused.html", {"message": message, "again": "/"}, status=400)
    response = HttpResponseRedirect(redeemed.next_path)
    response.set_cookie(
        COOKIE, redeemed.cookie, max_age=redeemed.max_age, secure=request.is_secure(), httponly=True, samesite="Lax"
    )
    return response


# ---------------------------------------------------------------------------- Settings → Proxy
@admin_required
def proxy_settings_page(request):
    """The domain, the certificates, HTTPS; the root certificate to install."""
    if request.method != "POST":
        return _page(request, ProxySettingsForm(initial=proxy_settings_view()))
    form = ProxySettingsForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        proxy_settings_update(user=request.user, request=request, **form.cleaned_data)
    except ProxyRefused as exc:
        form.add_error(exc.field or None, exc.message)
        return _page(request, form, status=400)
    messages.success(request, _("Saved. The proxy takes the new settings in a moment."))
    return redirect("settings-proxy")


def _page(request, form, *, status: int = 200):
    context = {"section": "proxy", "form": form, "state": proxy_settings_view()}
    return render(request, "proxy/settings.html", context, status=status)


@member_required
@require_GET
def root_certificate(request):
    """The internal CA's root certificate (public by nature), for members to install on their devices too."""
    path = proxy_root_certificate()
    if path is None:
        raise Http404
    return FileResponse(
        path.open("rb"), as_attachment=True, filename="casaos-root-ca.crt", content_type="application/x-x509-ca-cert"
    )


# ---------------------------------------------------------------------------- an app's address
@admin_required
def app_address(request, pk: int):
    """Give the app an address, change it or take it away (an empty name); require our login; make it public."""
    inst = app_get_for(user=request.user, pk=pk)
    state = address_view(inst)
    if request.method != "POST":
        return _address_page(request, inst, AddressForm(initial=state), state)
    form = AddressForm(request.POST)
    if form.is_valid():
        try:
            address_update(user=request.user, installation=inst, request=request, **form.cleaned_data)
        except ProxyRefused as exc:
            form.add_error(exc.field or None, exc.message)
    if form.errors:
        return _address_page(request, inst, form, state, status=400)
    messages.success(request, _("Saved. The address works in a moment."))
    return redirect("app-address", pk=inst.pk)


def _address_page(request, inst, form, state, *, status: int = 200):
    context = {"card": app_card(inst), "form": form, "address": state, "proxy": settings.PROXY}
    return render(request, "proxy/address.html", context, status=status)
