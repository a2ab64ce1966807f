"""Networks and volumes the app creates: the engine's plain bridge and local volumes (or RAM) only."""

from __future__ import annotations

from typing import Any

from runtime import labels as L
from runtime.policy.model import Context, Finding, host_access, refused

NETWORK_KEYS = frozenset(
    {"Name", "Driver", "Options", "CheckDuplicate", "Internal", "Labels", "EnableIPv6", "Attachable", "IPAM"}
)
VOLUME_KEYS = frozenset({"Name", "Driver", "DriverOpts", "Labels"})
TMPFS_OPTIONS = frozenset({"size", "mode", "uid", "gid", "nr_inodes", "noexec", "nosuid", "nodev"})


def network_findings(body: dict[str, Any], ctx: Context) -> list[Finding]:
    """POST /networks/create: a bridge without driver options, on the default IPAM driver."""
    key, name, driver = "networks", body.get("Name", ""), body.get("Driver", "")
    findings = _unknown(key, body, NETWORK_KEYS) + _owner(key, body.get("Labels") or {}, ctx)
    if driver not in ("", "bridge"):
        findings.append(host_access("network_driver", key, driver, f"network {name} uses the {driver} driver"))
    for option in body.get("Options") or {}:
        findings.append(host_access("network_driver", key, option, f"network {name} sets the driver option {option}"))
    ipam = body.get("IPAM") or {}
    if ipam.get("Driver", "default") not in ("", "default") or ipam.get("Options"):
        reason = f"network {name} uses the IPAM driver {ipam.get('Driver')} or its options"
        findings.append(host_access("network_driver", key, ipam.get("Driver"), reason))
    return findings


def volume_findings(body: dict[str, Any], ctx: Context) -> list[Finding]:
    """POST /volumes/create: a local volume, or one in RAM (tmpfs); raw devices, NFS and CIFS are host access."""
    key, name, driver, opts = "volumes", body.get("Name", ""), body.get("Driver", ""), body.get("DriverOpts") or {}
    findings = _unknown(key, body, VOLUME_KEYS) + _owner(key, body.get("Labels") or {}, ctx)
    if driver not in ("", "local"):
        findings.append(host_access("volume_driver", key, driver, f"volume {name} uses the volume driver {driver}"))
    if opts and not _tmpfs(opts):
        shown = ",".join(f"{k}={v}" for k, v in sorted(opts.items()))
        reason = f"volume {name} mounts {shown} (a disk, a device or a network share of the host)"
        findings.append(host_access("volume_driver", key, shown, reason))
    return findings


def _tmpfs(opts: dict[str, str]) -> bool:
    """driver_opts that make a RAM disk, with size/mode/owner options only."""
    flags = [o.partition("=")[0] for o in opts.get("o", "").split(",") if o]
    plain = opts.get("type") == "tmpfs" and opts.get("device") == "tmpfs" and set(opts) <= {"type", "device", "o"}
    return plain and all(f in TMPFS_OPTIONS for f in flags)


def _owner(key: str, labels: dict[str, str], ctx: Context) -> list[Finding]:
    wrong = [k for k in (L.APP, L.PROJECT) if k in labels and labels[k] != ctx.app]
    return [refused("labels", key, labels[k], f"{key}: the label {k} names another app") for k in wrong]


def _unknown(key: str, body: dict[str, Any], known: frozenset[str]) -> list[Finding]:
    return [
        refused("unknown_key", key, k, f"{key}: {k} is not a setting the policy knows") for k in body if k not in known
    ]
