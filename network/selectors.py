"""Reads for the Network page and its API: interfaces, default route, DNS, host name, LAN address, the open change."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from casaos_site.i18n import shown_in
from storage.host.errors import HostError

from .host.links import Interface, Links
from .host.nm import NetworkManager, Status
from .models import NetworkChange

SHOWN_KEYS = ("status_label", "step", "error")  # a change's stored messages


def links() -> Links:
    return Links(prefix=tuple(settings.NETWORK_HOST_PREFIX))


def network_manager() -> NetworkManager:
    return NetworkManager(bus_address=settings.NETWORK_DBUS_ADDRESS)


def web_port() -> int:
    """The port the web admin listens on (what a LAN URL needs)."""
    from system.selectors import system_settings

    bind = system_settings().web_bind_running or settings.BIND
    port = bind.rpartition(":")[2]
    return int(port) if port.isdigit() else 80


def lan_url(host: str) -> str:
    """http://<host>:<port>/ (an IPv6 address in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{web_port()}/"


def _throughput() -> dict[str, dict]:
    """The home widget's per-interface rates (the sampler's latest figures), by interface name."""
    from storage.selectors import system_status_latest

    return {nic["name"]: nic for nic in system_status_latest().get("interfaces", [])}


def _manager_view() -> tuple[Status, dict]:
    manager = network_manager()
    status = manager.status()
    if not status.running:
        return status, {}
    try:
        return status, manager.devices()
    except HostError as exc:
        return Status(False, str(exc)), {}


def _interface_view(iface: Interface, rates: dict, devices: dict, status: Status) -> dict:
    device = devices.get(iface.name)
    view = asdict(iface)
    view["addresses"] = [{**asdict(a), "cidr": a.cidr} for a in iface.addresses]
    view["throughput"] = rates.get(iface.name)
    view["managed"] = bool(device and device.managed)
    view["nm_state"] = device.state if device else ""
    view["read_only_reason"] = _read_only_reason(device, status)
    return view


def _read_only_reason(device, status: Status) -> str:
    if not status.running:
        return _("Read-only: NetworkManager is not running here.")
    if device is None or not device.managed:
        return _("NetworkManager does not manage this interface.")
    return ""


def _default_route() -> dict | None:
    routes = links().default_routes()
    if not routes:
        return None
    route = routes[0]
    return {"gateway": route.gateway, "interface": route.interface, "family": route.family}


def _dns(status: Status) -> list[str]:
    if status.running:
        try:
            servers = network_manager().dns_servers()
        except HostError:
            servers = []
        if servers:
            return servers
    return links().dns_servers()


def _lan_address(interfaces: list[dict], route: dict | None) -> str:
    """The box's IPv4 address on the interface of the default route (what phones and laptops at home reach)."""
    if not route:
        return ""
    for iface in interfaces:
        if iface["name"] == route["interface"]:
            for address in iface["addresses"]:
                if address["family"] == "inet":
                    return address["address"]
    return ""


def network_overview() -> dict:
    """Everything the Network page and GET /api/network/ show."""
    from system.selectors import host

    status, devices = _manager_view()
    try:
        found, route, error = links().interfaces(), _default_route(), ""
    except HostError as exc:  # `ip` missing or refusing: the page still answers, and says so
        found, route, error = [], None, str(exc)
    rates = _throughput()
    interfaces = [_interface_view(i, rates, devices, status) for i in found if not i.hidden]
    address = _lan_address(interfaces, route)
    return {
        "error": error,
        "hostname": host().hostname(),
        "lan_address": address,
        "lan_url": lan_url(address) if address else "",
        "interfaces": interfaces,
        "default_route": route,
        "dns_servers": _dns(status),
        "network_manager": {"running": status.running, "reason": status.reason},
        "change": change_payload(change_recent()),
    }


def change_open() -> NetworkChange | None:
    """The change that still runs or waits for its confirmation (one at a time)."""
    return NetworkChange.objects.filter(status__in=NetworkChange.OPEN).first()


def change_recent() -> NetworkChange | None:
    """The change the page shows: the open one, else the last one if it ended within 15 minutes (the admin who was
    cut off by a rollback sees what happened when the page answers again)."""
    since = timezone.now() - timedelta(minutes=15)
    return change_open() or NetworkChange.objects.filter(finished_at__gte=since).first()


def status_id(change: NetworkChange) -> str:
    """The change's status label in English: the message id shown() translates for each reader."""
    with translation.override(None):
        return str(change.get_status_display())


def change_event(change: NetworkChange | None) -> dict | None:
    """A change as stored (what the socket's group gets from a worker): step, error and status label are message
    ids, said in each reader's language by change_payload() and the page's socket."""
    if change is None:
        return None
    return {
        "id": change.pk,
        "interface": change.interface,
        "method": change.method,
        "address": change.address,
        "gateway": change.gateway,
        "dns": change.dns,
        "status": change.status,
        "status_label": status_id(change),
        "step": change.step,
        "error": change.error,
        "new_url": lan_url(change.new_host) if change.new_host else "",
        "deadline": change.deadline.isoformat() if change.deadline else None,
    }


def change_payload(change: NetworkChange | None) -> dict | None:
    """A change as the page and the API show it, in the reader's language (never its confirmation code)."""
    event = change_event(change)
    return shown_in(event, *SHOWN_KEYS) if event else None
