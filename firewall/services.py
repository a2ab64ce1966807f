"""Writes of the firewall: load our table from the database's truth (or remove it when the firewall is off), and
queue that whenever what it depends on changed."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from storage.host.errors import HostError, ToolMissing

from .host.nft import Nft
from .selectors import firewall_ruleset

log = logging.getLogger(__name__)


def firewall_apply(*, nft: Nft | None = None) -> bool:
    """Load the whole table (CASAOS_FIREWALL=1) or remove it (off); True when rules are in force afterwards."""
    nft = nft or Nft()
    if not settings.FIREWALL:
        _remove(nft)
        return False
    ruleset = firewall_ruleset()
    nft.apply(ruleset)
    log.info("firewall: %d guarded ports, LAN %s", len(ruleset.guards), ", ".join(map(str, ruleset.lan)) or "-")
    _proxy_follows_lan()
    return True


def _proxy_follows_lan() -> None:
    # Caddy answers the admin to the LAN only (proxy.selectors.proxy_lan): when the LAN moved, so must it.
    if not settings.PROXY:
        return
    from proxy.host.caddy import CaddyError
    from proxy.services import proxy_refresh

    try:
        proxy_refresh()
    except CaddyError as exc:  # recorded on the proxy's settings row by its service
        log.warning("firewall: the proxy did not take the new LAN: %s", exc)


def _remove(nft: Nft) -> None:
    # Off is the default, so this runs on every try-out's worker start: where nft is missing or we are not root,
    # our table cannot exist either, and there is nothing to report.
    try:
        nft.remove()
    except ToolMissing:
        return
    except HostError as exc:
        log.warning("firewall: our nftables table could not be removed: %s", exc)


def firewall_request_apply() -> None:
    """Queue a re-apply once the current transaction commits (nothing to do while the firewall is off)."""
    if settings.FIREWALL:
        from .tasks import firewall_apply as task

        transaction.on_commit(task.delay)
