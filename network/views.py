"""The Network page (admins) and the confirmation page reached at the new address: thin, writes through services."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import admin_required, stepup_is_fresh
from firewall.selectors import firewall_overview

from .api import request_host
from .checks import NetworkRefused, dns_list
from .forms import ConfirmForm, HostnameForm, InterfaceForm
from .models import NetworkChange
from .selectors import change_payload, change_recent, network_overview
from .services import network_change_confirm, network_change_request, network_hostname_set

TOKEN_SESSION_KEY = "network_change_codes"  # the codes of the changes this session made: {change id: code}


def _page(request, *, hostname_form=None, interface_forms=None, status: int = 200):
    overview = network_overview()
    forms = interface_forms or {}
    for iface in overview["interfaces"]:
        initial = _initial(iface, overview["default_route"])
        iface["form"] = forms.get(iface["name"]) or InterfaceForm(initial=initial, prefix=iface["name"])
    context = {
        "section": "network",
        "net": overview,
        "hostname_form": hostname_form or HostnameForm(initial={"hostname": overview["hostname"]}),
        "stepup_fresh": stepup_is_fresh(request),
        "firewall": firewall_overview(),
        **_change_context(request),
    }
    return render(request, "network/index.html", context, status=status)


def _initial(iface: dict, route: dict | None) -> dict:
    """The form starts from what the interface has: its static address and the gateway it routes through."""
    static = [a for a in iface["addresses"] if a["family"] == "inet" and not a["dynamic"]]
    if not static:
        return {"method": NetworkChange.Method.DHCP}
    gateway = route["gateway"] if route and route["interface"] == iface["name"] and route["family"] == "inet" else ""
    return {"method": NetworkChange.Method.STATIC, "address": static[0]["cidr"], "gateway": gateway}


def _change_context(request) -> dict:
    change = change_recent()
    codes = request.session.get(TOKEN_SESSION_KEY, {})
    return {
        "change": change_payload(change),
        "change_open": change is not None and change.status in NetworkChange.OPEN,
        "change_code": codes.get(str(change.pk), "") if change else "",
    }


@admin_required
def network_page(request):
    """Interfaces with their state and live throughput, route, DNS, host name; the forms that change them."""
    return _page(request)


@admin_required
def change_fragment(request):
    """The open change's panel alone: what the page's socket asks for when a change moves on."""
    return render(request, "network/partials/_change.html", _change_context(request))


@admin_required
@require_POST
def hostname_set(request):
    form = HostnameForm(request.POST)
    if not form.is_valid():
        return _page(request, hostname_form=form, status=400)
    try:
        changed = network_hostname_set(user=request.user, request=request, **form.cleaned_data)
    except NetworkRefused as exc:
        form.add_error("hostname", exc.message)
        return _page(request, hostname_form=form, status=exc.status)
    messages.success(
        request, _("The box is now called %s.") % form.cleaned_data["hostname"] if changed else _("Nothing changed.")
    )
    return redirect("network")


@admin_required
@require_POST
def interface_change(request, name: str):
    form = InterfaceForm(request.POST, prefix=name)
    if not form.is_valid():
        return _page(request, interface_forms={name: form}, status=400)
    data = form.cleaned_data
    try:
        change, code = network_change_request(
            user=request.user,
            request=request,
            interface=name,
            method=data["method"],
            address=data["address"],
            gateway=data["gateway"],
            dns=dns_list(data["dns"]),
            stepped_up=stepup_is_fresh(request),
        )
    except NetworkRefused as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _page(request, interface_forms={name: form}, status=exc.status)
    request.session[TOKEN_SESSION_KEY] = {str(change.pk): code}
    return redirect("network")


def change_confirm(request, pk: int):
    """Reached at the new address (where this browser has no session yet): the change's code is the authority."""
    change = get_object_or_404(NetworkChange, pk=pk)
    form = ConfirmForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        return render(request, "network/confirm.html", {"form": form, "change": change_payload(change)})
    try:
        network_change_confirm(
            change=change, token=form.cleaned_data["token"], host=request_host(request), request=request
        )
    except NetworkRefused as exc:
        form.add_error(None, exc.message)
        return render(
            request, "network/confirm.html", {"form": form, "change": change_payload(change)}, status=exc.status
        )
    return render(request, "network/confirm.html", {"form": None, "change": change_payload(change), "kept": True})
