"""The VPN page (admins), under Network: thin, writes through vpn/services.py."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.permissions import admin_required, stepup_is_fresh

from .forms import PeerForm, ServerForm
from .models import VpnPeer
from .onetime import peer_created_payload, request_host
from .selectors import server_payload, vpn_overview, vpn_server
from .services import VpnRefused, vpn_peer_create, vpn_peer_revoke, vpn_server_update

SETTINGS_FIELDS = ("enabled", "address", "listen_port", "endpoint", "dns", "routes")


def _page(request, *, server_form=None, peer_form=None, created=None, status: int = 200):
    vpn = vpn_overview()
    context = {
        "section": "network",
        "vpn": vpn,
        "server_form": server_form or ServerForm(initial={name: vpn[name] for name in SETTINGS_FIELDS}),
        "peer_form": peer_form or PeerForm(),
        "created": created,
        "stepup_fresh": stepup_is_fresh(request),
    }
    return render(request, "vpn/index.html", context, status=status)


@admin_required
def vpn_page(request):
    """The server's state and settings, the devices, and the form that adds one."""
    return _page(request)


@admin_required
def vpn_state(request):
    """The server's panel alone: what the page polls while an apply runs."""
    return render(request, "vpn/partials/_server.html", {"vpn": server_payload(vpn_server())})


@admin_required
@require_POST
def vpn_settings(request):
    form = ServerForm(request.POST)
    if not form.is_valid():
        return _page(request, server_form=form, status=400)
    try:
        vpn_server_update(user=request.user, request=request, stepped_up=stepup_is_fresh(request), **form.cleaned_data)
    except VpnRefused as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _page(request, server_form=form, status=exc.status)
    messages.success(request, _("Saved. The VPN is being applied."))
    return redirect("vpn")


@never_cache
@admin_required
@require_POST
def vpn_peer_add(request):
    """Add a device: the answer shows its QR code and file once (a reload does not: nothing keeps the key)."""
    form = PeerForm(request.POST)
    if not form.is_valid():
        return _page(request, peer_form=form, status=400)
    try:
        peer, text = vpn_peer_create(
            user=request.user,
            request=request,
            stepped_up=stepup_is_fresh(request),
            name=form.cleaned_data["name"],
            fallback_host=request_host(request),
        )
    except VpnRefused as exc:
        form.add_error("name" if exc.field == "name" else None, exc.message)
        return _page(request, peer_form=form, status=exc.status)
    return _page(request, created=peer_created_payload(peer, text))


@admin_required
@require_POST
def vpn_peer_revoke_view(request, pk: int):
    peer = get_object_or_404(VpnPeer, pk=pk)
    vpn_peer_revoke(user=request.user, request=request, peer=peer)
    messages.success(request, _("%s can no longer connect.") % peer.name)
    return redirect("vpn")
