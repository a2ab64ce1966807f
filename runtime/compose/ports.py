"""Ports in short ("127.0.0.1:8000-8001:80-81/udp") and long syntax, expanded to one PortSpec per port."""

from __future__ import annotations

import re
from typing import Any

from runtime.compose.fields import as_mapping, as_str, check_keys
from runtime.errors import ComposeError
from runtime.specs import PortSpec

_LONG_KEYS = ("target", "published", "host_ip", "protocol", "mode", "name", "app_protocol")
_PROTOCOLS = ("tcp", "udp", "sctp")


def parse_ports(value: Any, path: str) -> tuple[PortSpec, ...]:
    """All entries of a service's `ports` list."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ComposeError("must be a list", path)
    specs: list[PortSpec] = []
    for i, item in enumerate(value):
        item_path = f"{path}[{i}]"
        specs.extend(_long(item, item_path) if isinstance(item, dict) else _short(as_str(item, item_path), item_path))
    return tuple(specs)


def _short(text: str, path: str) -> list[PortSpec]:
    """[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]; an IPv6 host ip is written in brackets."""
    text, _, protocol = text.strip().partition("/")
    host_ip = ""
    m = re.match(r"^\[([0-9a-fA-F:.]+)\]:(.*)$", text)
    if m:
        host_ip, text = m.group(1), m.group(2)
    parts = text.split(":")
    if len(parts) == 3:
        host_ip, published, target = parts
    elif len(parts) == 2:
        published, target = parts
    elif len(parts) == 1:
        published, target = "", parts[0]
    else:
        raise ComposeError(f"invalid port {text!r}", path)
    return _expand(target, published, protocol or "tcp", host_ip, path)


def _long(item: dict[str, Any], path: str) -> list[PortSpec]:
    """Long syntax; `published` may be an int, a string or a range string."""
    item = as_mapping(item, path)
    check_keys(item, _LONG_KEYS, path)
    if "target" not in item:
        raise ComposeError("target is required", path)
    published = "" if item.get("published") is None else as_str(item["published"], f"{path}.published")
    protocol = as_str(item.get("protocol") or "tcp", f"{path}.protocol")
    host_ip = as_str(item.get("host_ip") or "", f"{path}.host_ip")
    return _expand(as_str(item["target"], f"{path}.target"), published, protocol, host_ip, path)


def _expand(target: str, published: str, protocol: str, host_ip: str, path: str) -> list[PortSpec]:
    """Turn one (possibly ranged) mapping into individual PortSpecs."""
    protocol = protocol.lower()  # real stores write UDP in upper case
    if protocol not in _PROTOCOLS:
        raise ComposeError(f"unknown protocol {protocol!r}", path)
    targets = _range(target, path)
    if not published:
        return [PortSpec(target=t, protocol=protocol, host_ip=host_ip) for t in targets]  # type: ignore[arg-type]
    hosts = _range(published, path)
    if len(hosts) != len(targets):
        raise ComposeError(f"host range {published} and container range {target} differ in length", path)
    return [
        PortSpec(target=t, published=h, protocol=protocol, host_ip=host_ip)  # type: ignore[arg-type]
        for t, h in zip(targets, hosts, strict=True)
    ]


def _range(text: str, path: str) -> list[int]:
    """ "8000" or "8000-8010" as a list of valid port numbers."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", text)
    if not m:
        raise ComposeError(f"invalid port {text!r}", path)
    low, high = int(m.group(1)), int(m.group(2) or m.group(1))
    if not (0 < low <= high <= 65535) or high - low > 1000:
        raise ComposeError(f"invalid port range {text!r}", path)
    return list(range(low, high + 1))
