"""Mounts: host paths (Binds and bind Mounts), named volumes, and the options that may ride along."""

from __future__ import annotations

from typing import Any

from runtime.policy.model import Context, Finding, host_access, refused
from runtime.policy.paths import bind_findings

BIND_MODES = frozenset({"ro", "rw", "z", "Z", "nocopy", "private", "rprivate", "slave", "rslave"})
PROPAGATIONS = frozenset({"", "private", "rprivate", "slave", "rslave"})  # shared ones would leak mounts to the host
MOUNT_KEYS = frozenset({"Type", "Source", "Target", "ReadOnly", "BindOptions", "VolumeOptions"})
BIND_OPTIONS = frozenset({"Propagation"})
VOLUME_OPTIONS = frozenset({"NoCopy"})


def binds(key: str, entries: list[str], ctx: Context, service: str) -> list[Finding]:
    """`Binds` as the engine splits them: source:target[:mode,mode]."""
    return [f for entry in entries for f in _bind(key, entry, ctx, service)]


def _bind(key: str, entry: str, ctx: Context, service: str) -> list[Finding]:
    parts = entry.split(":")
    if len(parts) not in (2, 3):
        return [refused("unreadable", key, entry, f"{key} entry {entry!r} cannot be read one way only", service)]
    modes = parts[2].split(",") if len(parts) == 3 else []
    findings = bind_findings(parts[0], parts[1], key, ctx, service, read_only="ro" in modes)
    return findings + [_propagation(key, m, service) for m in modes if m not in BIND_MODES]


def mounts(key: str, entries: list[dict[str, Any]], ctx: Context, service: str) -> list[Finding]:
    return [f for entry in entries for f in _mount(key, entry, ctx, service)]


def _mount(key: str, entry: dict[str, Any], ctx: Context, service: str) -> list[Finding]:
    kind, source, target = entry.get("Type"), str(entry.get("Source") or ""), str(entry.get("Target") or "")
    findings = [_unknown(key, k, service) for k in entry if k not in MOUNT_KEYS]
    if kind == "bind":
        options = entry.get("BindOptions") or {}
        findings += [_unknown(f"{key}.BindOptions", k, service) for k in options if k not in BIND_OPTIONS]
        if options.get("Propagation", "") not in PROPAGATIONS:
            findings.append(_propagation(key, options["Propagation"], service))
        read_only = bool(entry.get("ReadOnly"))
        return findings + bind_findings(source, target, key, ctx, service, read_only=read_only)
    if kind == "volume":
        options = entry.get("VolumeOptions") or {}
        findings += [_unknown(f"{key}.VolumeOptions", k, service) for k in options if k not in VOLUME_OPTIONS]
        return findings + volume_source(key, source, ctx, service)
    return [
        *findings,
        refused("mount_type", key, kind, f"{key} asks for a {kind} mount, which is not supported", service),
    ]


def volume_source(key: str, name: str, ctx: Context, service: str) -> list[Finding]:
    """A named volume: the app's own; another app's is refused; one of no app needs consent."""
    owner = ctx.volume_owners.get(name, "")
    if not name or name in ctx.volumes or owner == ctx.app:
        return []
    if owner:
        return [refused("other_app_volume", key, name, f"{key} uses the volume {name} of the app {owner}", service)]
    return [host_access("foreign_volume", key, name, f"{key} uses the volume {name}, which is not this app's", service)]


def _propagation(key: str, mode: str, service: str) -> Finding:
    reason = f"{key} mount option {mode!r} is outside the allowlist (shared propagation reaches the host's mounts)"
    return host_access("mount_option", key, mode, reason, service)


def _unknown(key: str, name: str, service: str) -> Finding:
    return host_access("unknown_key", f"{key}.{name}", name, f"{key}.{name} is not a known safe setting", service)
