"""The VPN's reads: the server row (made with the settings' defaults on first read), the devices, what is live."""

from __future__ import annotations

import logging

from django.conf import settings

from casaos_site.i18n import shown
from storage.host.errors import HostError

from .host.wg import PeerState, WireGuard
from .models import VpnPeer, VpnServer

log = logging.getLogger(__name__)


def vpn_server(*, for_update: bool = False) -> VpnServer:
    """The one server row (pk 1); its first read makes it from CASAOS_VPN_ADDRESS and CASAOS_VPN_PORT."""
    defaults = {"address": settings.VPN_ADDRESS, "listen_port": settings.VPN_PORT}
    VpnServer.objects.get_or_create(pk=1, defaults=defaults)
    rows = VpnServer.objects.select_for_update() if for_update else VpnServer.objects
    return rows.get(pk=1)


def vpn_interface() -> WireGuard:
    return WireGuard(name=settings.VPN_INTERFACE, prefix=tuple(settings.VPN_HOST_PREFIX))


def vpn_peers():
    return VpnPeer.objects.select_related("created_by")


def live_peers(server: VpnServer) -> dict[str, PeerState] | None:
    """The interface's peers with their last handshake; None when it cannot be read (off, or not allowed here)."""
    if not server.enabled:
        return None
    try:
        wg = vpn_interface()
        return wg.peers() if wg.exists() else None
    except HostError as exc:
        log.info("vpn: the live interface could not be read: %s", exc)
        return None


def peer_payload(peer: VpnPeer, live: dict[str, PeerState] | None) -> dict:
    state = (live or {}).get(peer.public_key)
    return {
        "id": peer.pk,
        "name": peer.name,
        "address": peer.address,
        "public_key": peer.public_key,
        "created_at": peer.created_at,
        "live": state is not None,
        "latest_handshake": state.latest_handshake if state and state.latest_handshake else None,
        "endpoint": state.endpoint if state else "",
    }


def server_payload(server: VpnServer) -> dict:
    return {
        "enabled": server.enabled,
        "interface": settings.VPN_INTERFACE,
        "address": server.address,
        "listen_port": server.listen_port,
        "endpoint": server.endpoint,
        "dns": server.dns,
        "routes": server.routes,
        "public_key": server.public_key,
        "state": server.state,
        "error": shown(server.error),  # stored as a deferred() id: each reader sees their own language
        "kind": server.kind,
        "applied_at": server.applied_at,
    }


def vpn_overview() -> dict:
    """The server's settings and state, and every device with what the live interface knows of it."""
    server = vpn_server()
    live = live_peers(server)
    return {**server_payload(server), "peers": [peer_payload(p, live) for p in vpn_peers()]}
