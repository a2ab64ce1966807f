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
    name, driver, ipam = body.get("Name", ""), body.get("Driver", ""), body.get("IPAM") or {}
    findings = _unknown("networks", body, NETWORK_KEYS) + _owner("networks.Labels", body.get("Labels") or {}, ctx)
    if driver not in ("", "bridge"):
        reason = f"networks.Driver {driver} of network {name} reaches beyond a private bridge"
        findings.append(host_access("network_driver", "networks.Driver", driver, reason))
    for option in body.get("Options") or {}:
        reason = f"networks.Options {option} of network {name} configures the host's side of the network"
        findings.append(host_access("network_driver", "networks.Options", option, reason))
    if ipam.get("Driver", "default") not in ("", "default") or ipam.get("Options"):
        reason = f"networks.IPAM driver {ipam.get('Driver')} of network {name} or its options"
        findings.append(host_access("network_driver", "networks.IPAM", ipam.get("Driver"), reason))
    return findings


def volume_findings(body: dict[str, Any], ctx: Context) -> list[Finding]:
    """POST /volumes/create: a local volume, or one in RAM (tmpfs); raw devices, NFS and CIFS are host access."""
    name, driver, opts = body.get("Name", ""), body.get("Driver", ""), body.get("DriverOpts") or {}
    findings = _unknown("volumes", body, VOLUME_KEYS) + _owner("volumes.Labels", body.get("Labels") or {}, ctx)
    if driver not in ("", "local"):
        reason = f"volumes.Driver {driver} of volume {name} stores it outside the engine"
        findings.append(host_access("volume_driver", "volumes.Driver", driver, reason))
    if opts and not _tmpfs(opts):
        shown = ",".join(f"{k}={_masked(v) if k == 'o' else v}" for k, v in sorted(opts.items()))
        reason = f"volumes.DriverOpts {shown} of volume {name} mount a disk, device or network share of the host"
        findings.append(host_access("volume_driver", "volumes.DriverOpts", shown, reason))
    return findings


def _masked(options: str) -> str:
    """Mount options as shown and recorded: a share's password never lands in a consent record or the audit log."""
    pairs = [o.partition("=") for o in options.split(",")]
    return ",".join(
        f"{k}{sep}***" if sep and ("pass" in k or k == "credentials") else f"{k}{sep}{v}" for k, sep, v in pairs
    )


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
