"""A new device's configuration as it is shown once: the text, its QR code and a file name (page and API alike)."""

from __future__ import annotations

import re

from django.http.request import split_domain_port

from accounts.qr import qr_data_uri

from .models import VpnPeer
from .selectors import peer_payload


def request_host(request) -> str:
    """The host the admin reached the box at: the endpoint devices are given when none is set."""
    return split_domain_port(request.get_host())[0].strip("[]")


def config_filename(name: str) -> str:
    """wg-quick names the interface after the file: at most 15 characters of [A-Za-z0-9_=+.-]."""
    slug = re.sub(r"[^A-Za-z0-9_=+.-]+", "-", name).strip("-.")[:12] or "device"
    return f"wg-{slug}.conf"


def peer_created_payload(peer: VpnPeer, text: str) -> dict:
    return {
        **peer_payload(peer, None),
        "config": text,
        "qr_svg": qr_data_uri(text),
        "filename": config_filename(peer.name),
    }
