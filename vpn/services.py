"""The VPN's writes: server settings, devices added (their keys shown once) and revoked, each audited; the live
interface is changed by the worker (vpn.apply), which alone runs the privileged commands."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.services.audit import audit_record
from casaos_site.i18n import deferred, shown
from casaos_site.secrets import create_once

from .host import config
from .models import VpnPeer, VpnServer
from .selectors import vpn_server

KEY_FILE = "server.key"


class VpnRefused(Exception):
    """A VPN change we will not make, and why; `field` names the input, `status` is its 4xx."""

    def __init__(self, message: str, *, field: str = "", status: int = 400, code: str = "invalid") -> None:
        self.message = shown(message)
        super().__init__(self.message)
        self.field, self.status, self.code = field, status, code


def _check_stepped_up(stepped_up: bool) -> None:
    if not stepped_up:
        raise VpnRefused(
            deferred("This action needs you to confirm your password again (step-up)."), status=403, code="stepup"
        )


def vpn_apply_queue() -> None:
    """Make the live interface match the database once this change is committed (vpn.apply task)."""
    from .tasks import vpn_apply

    transaction.on_commit(lambda: vpn_apply.delay())


# ---------------------------------------------------------------------------- the server's key
def key_path() -> Path:
    return Path(settings.VPN_KEY_DIR) / KEY_FILE


def server_private_key() -> str:
    """The server's private key, made on first use: a 0600 file in a 0700 folder of the data directory."""
    path = key_path()
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        create_once(path, config.key_pair().private + "\n")  # False: another process made it first, read theirs
    return path.read_text().strip()


def _ensure_key(server: VpnServer) -> None:
    public = config.public_of(server_private_key())
    if server.public_key != public:
        server.public_key = public
        server.save(update_fields=["public_key", "updated_at"])


# ---------------------------------------------------------------------------- server settings
def _checked(field: str, check, value):
    try:
        return check(value)
    except (config.ConfigRefused, ValueError) as exc:
        raise VpnRefused(deferred("%(error)s", error=str(exc)), field=field) from None


def _list_of(check, text: str) -> str:
    items = [item.strip() for item in text.split(",") if item.strip()]
    return ", ".join(str(check(item)) for item in items)


def _networks(text: str) -> str:
    return _list_of(lambda v: ipaddress.ip_network(v, strict=False), text)


def _addresses(text: str) -> str:
    return _list_of(ipaddress.ip_address, text)


CHECKS = {
    "address": lambda v: str(config.check_network(v)),
    "listen_port": config.check_port,
    "endpoint": lambda v: config.check_host(v) if v.strip() else "",
    "dns": _addresses,
    "routes": _networks,
}


def _check_address_change(server: VpnServer, address: str) -> None:
    network = ipaddress.ip_interface(address).network
    if any(ipaddress.ip_address(a) not in network for a in VpnPeer.objects.values_list("address", flat=True)):
        raise VpnRefused(
            deferred("Revoke the devices outside the new range first: their addresses would not fit."),
            field="address",
            status=409,
        )


@transaction.atomic
def vpn_server_update(*, user, request=None, stepped_up: bool, **changes) -> VpnServer:
    """Change the server's settings (enable/disable, range, port, what devices are told); the worker applies them."""
    _check_stepped_up(stepped_up)
    server = vpn_server(for_update=True)
    fields = {name: _checked(name, CHECKS[name], value) for name, value in changes.items() if name in CHECKS}
    if "address" in fields and fields["address"] != server.address:
        _check_address_change(server, fields["address"])
    if "enabled" in changes:
        fields["enabled"] = bool(changes["enabled"])
    for name, value in fields.items():
        setattr(server, name, value)
    server.state, server.error = VpnServer.State.PENDING, ""
    server.save()
    _ensure_key(server)
    audit_record(actor=user, action="vpn.settings", request=request, target="vpn", details=dict(fields))
    vpn_apply_queue()
    return server


# ---------------------------------------------------------------------------- peers
def _endpoint_host(server: VpnServer, fallback: str) -> str:
    host = server.endpoint or fallback
    try:
        return config.check_host(host)
    except config.ConfigRefused:
        raise VpnRefused(
            deferred("Set the public address devices reach this box at first."), field="endpoint", status=409
        ) from None


def _check_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 80:
        raise VpnRefused(deferred("Name the device (1 to 80 characters)."), field="name")
    return name


def peer_routes(server: VpnServer) -> list[str]:
    """What a device sends through the tunnel: the VPN's range, and the extra routes."""
    own = str(ipaddress.ip_interface(server.address).network)
    return [own, *(r.strip() for r in server.routes.split(",") if r.strip())]


def _peer_record(*, user, name: str, server: VpnServer, public_key: str) -> VpnPeer:
    taken = {str(a) for a in VpnPeer.objects.values_list("address", flat=True)}
    address = _checked("address", lambda v: config.peer_address(v, taken), server.address)
    try:
        with transaction.atomic():
            return VpnPeer.objects.create(name=name, public_key=public_key, address=address, created_by=user)
    except IntegrityError:  # another device took the same address a moment ago
        raise VpnRefused(deferred("Another device was added at the same moment: try again."), status=409) from None


@transaction.atomic
def vpn_peer_create(*, user, request=None, stepped_up: bool, name: str, fallback_host: str = "") -> tuple[VpnPeer, str]:
    """Add a device: a fresh key pair, an address of the range; (the peer, its configuration text). The text holds
    the device's private key: shown once, never stored (only the public key is)."""
    _check_stepped_up(stepped_up)
    name = _check_name(name)
    server = vpn_server(for_update=True)
    _ensure_key(server)
    host = _endpoint_host(server, fallback_host)
    keys = config.key_pair()
    peer = _peer_record(user=user, name=name, server=server, public_key=keys.public)
    text = config.peer_config(
        private_key=keys.private,
        address=peer.address,
        server_public_key=server.public_key,
        endpoint_host=host,
        port=server.listen_port,
        routes=peer_routes(server),
        dns=[d for d in server.dns.split(",") if d.strip()],
    )
    audit_record(actor=user, action="vpn.peer.add", request=request, target=name, details={"address": peer.address})
    _pending(server)
    vpn_apply_queue()
    return peer, text


def _pending(server: VpnServer) -> None:
    server.state, server.error = VpnServer.State.PENDING, ""
    server.save(update_fields=["state", "error", "updated_at"])


@transaction.atomic
def vpn_peer_revoke(*, user, request=None, peer: VpnPeer) -> None:
    """Revoke a device: its row goes now, and the worker removes it from the live interface."""
    audit_record(actor=user, action="vpn.peer.revoke", request=request, target=peer.name,
                 details={"address": peer.address, "public_key": peer.public_key})  # fmt: skip
    peer.delete()
    _pending(vpn_server(for_update=True))
    vpn_apply_queue()
