"""Who is on the other end of a request: the socket peer, unless a configured proxy says otherwise."""

import ipaddress

from django.conf import settings

FORWARDED_HEADER = "HTTP_X_FORWARDED_FOR"


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def _trusted(address: str) -> bool:
    for entry in settings.TRUSTED_PROXIES:
        try:
            if ipaddress.ip_address(address) in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(request) -> str | None:
    """The client's IP address. X-Forwarded-For counts only when the peer is a trusted proxy (SECURITY.md lesson 1)."""
    peer = _valid(request.META.get("REMOTE_ADDR", ""))
    if peer is None or not _trusted(peer):
        return peer
    # Walk the chain from the right: the first hop our proxies did not add is the client.
    hops = [hop for hop in (_valid(h) for h in request.META.get(FORWARDED_HEADER, "").split(",")) if hop]
    for hop in reversed(hops):
        if not _trusted(hop):
            return hop
    return peer


def user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:300]
