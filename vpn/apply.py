"""Apply (the vpn.apply task's work): the live WireGuard interface is made to match the database.

On: the interface is made if missing (kernel WireGuard, else wireguard-go), then `wg setconf` gives it the key, the
port and exactly the stored peers (a revoked device is gone from it at once), then the address and the link. Off:
the interface is removed. The server row records how it went; the page follows it.
"""

from __future__ import annotations

import fcntl
import logging
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from casaos_site.events import publish
from casaos_site.i18n import deferred
from storage.host.errors import HostError

from .host import config, wg
from .models import VpnPeer, VpnServer
from .selectors import vpn_interface, vpn_server
from .services import server_private_key

STATE_EVENT = "vpn.state"
log = logging.getLogger(__name__)


@contextmanager
def _locked():
    """One apply at a time in this installation (two workers' threads would interleave ip and wg commands)."""
    path = Path(settings.VPN_KEY_DIR) / "apply.lock"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _server_text(server: VpnServer) -> str:
    peers = [config.PeerSpec(public_key=p.public_key, address=p.address) for p in VpnPeer.objects.all()]
    return config.server_config(private_key=server_private_key(), listen_port=server.listen_port, peers=peers)


def _attempt(server: VpnServer, iface: wg.WireGuard) -> tuple[str, str]:
    """(kind, error): what the interface now is, or why it is not."""
    try:
        if not server.enabled:
            iface.remove()
            return "", ""
        return wg.apply(iface, config_text=_server_text(server), address=server.address), ""
    except HostError as exc:
        return "", deferred("WireGuard could not be configured: %(error)s", error=str(exc))
    except (config.ConfigRefused, OSError) as exc:
        return "", deferred("WireGuard could not be configured: %(error)s", error=str(exc))


def _settle(server: VpnServer, kind: str, error: str) -> None:
    """Record the outcome unless the settings changed meanwhile (the apply that change queued settles it)."""
    state = VpnServer.State.FAILED if error else VpnServer.State.APPLIED
    fields = {"state": state, "error": error, "applied_at": timezone.now()}
    if kind != "existing":  # an interface that was there already keeps the kind recorded when it was made
        fields["kind"] = kind
    VpnServer.objects.filter(pk=server.pk, updated_at=server.updated_at).update(**fields)


def vpn_apply_run() -> VpnServer:
    """Make the live interface match the stored server and peers; the server's state says how it went."""
    with _locked():
        server = vpn_server()
        kind, error = _attempt(server, vpn_interface())
        if error:
            log.warning("vpn: apply failed: %s", error)
        _settle(server, kind, error)
    server.refresh_from_db()
    publish(settings.VPN_GROUP, STATE_EVENT, {"state": server.state, "error": server.error})
    return server
