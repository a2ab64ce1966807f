"""Allowlists for the values of privilege keys: capabilities, security options, sysctls, ulimits, log drivers."""

from __future__ import annotations

import resource
from typing import Any

from runtime.policy.model import Context, Finding, host_access

# Docker's default capability set (moby oci/caps/defaults.go): asking for one of these asks for nothing new.
DOCKER_DEFAULT_CAPS = frozenset(
    {
        "CHOWN",
        "DAC_OVERRIDE",
        "FSETID",
        "FOWNER",
        "MKNOD",
        "NET_RAW",
        "SETGID",
        "SETUID",
        "SETFCAP",
        "SETPCAP",
        "NET_BIND_SERVICE",
        "SYS_CHROOT",
        "KILL",
        "AUDIT_WRITE",
    }
)
# Harmless additions: the kernel checks NET_BROADCAST nowhere that matters (broadcast needs no capability).
HARMLESS_CAPS = frozenset({"NET_BROADCAST"})
ALLOWED_CAPS = DOCKER_DEFAULT_CAPS | HARMLESS_CAPS

# Options that only tighten the container: no privilege gain through setuid binaries, the engine's own profile.
ALLOWED_SECURITY_OPTS = frozenset({"no-new-privileges", "no-new-privileges=true", "apparmor=docker-default"})

# Sysctls of the container's own network namespace (the kernel refuses the global ones inside it).
NET_SYSCTL_PREFIXES = ("net.ipv4.", "net.ipv6.")
NET_SYSCTLS = frozenset({"net.core.somaxconn", "net.unix.max_dgram_qlen"})

LOG_DRIVERS = frozenset({"json-file", "local", "journald", "none"})
LOG_OPTIONS = frozenset({"max-size", "max-file", "compress", "mode", "max-buffer-size", "tag", "labels", "env"})
RUNTIMES = frozenset({"", "runc", "crun"})  # the engines' own; others (nvidia, kata...) reach the host otherwise

_ULIMIT_NAMES = ("core", "cpu", "data", "fsize", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio")
ULIMITS = {n: getattr(resource, f"RLIMIT_{n.upper()}") for n in (*_ULIMIT_NAMES, "rttime", "sigpending", "stack")}
ULIMITS["locks"] = 10  # RLIMIT_LOCKS on Linux; Python's resource module does not name it


def capability(name: str) -> str:
    """SYS_ADMIN, CAP_SYS_ADMIN and sys_admin are one capability."""
    return name.strip().upper().removeprefix("CAP_")


def cap_add(key: str, caps: list[str], ctx: Context, service: str) -> list[Finding]:
    return [
        host_access("cap_add", key, cap, f"{key} adds the capability {cap}, beyond Docker's default set", service)
        for cap in caps
        if capability(cap) not in ALLOWED_CAPS
    ]


def security_opt(key: str, opts: list[str], ctx: Context, service: str) -> list[Finding]:
    return [
        host_access("unconfined", key, opt, f"{key} sets {opt}, which loosens the container's confinement", service)
        for opt in opts
        if opt.replace(":", "=", 1).strip().lower() not in ALLOWED_SECURITY_OPTS
    ]


def sysctls(key: str, values: dict[str, str], ctx: Context, service: str) -> list[Finding]:
    return [
        host_access("sysctl", key, f"{name}={value}", f"{key} sets {name}, outside the network namespace", service)
        for name, value in values.items()
        if not (name.startswith(NET_SYSCTL_PREFIXES) or name in NET_SYSCTLS)
    ]


def oom_score_adj(key: str, value: int, ctx: Context, service: str) -> list[Finding]:
    if value >= 0:
        return []
    return [
        host_access("oom_score_adj", key, value, f"{key} {value} lets the kernel kill host processes first", service)
    ]


def ulimits(key: str, entries: list[dict[str, Any]], ctx: Context, service: str) -> list[Finding]:
    return [f for entry in entries for f in _ulimit(key, entry, ctx, service)]


def _ulimit(key: str, entry: dict[str, Any], ctx: Context, service: str) -> list[Finding]:
    name, soft, hard = str(entry.get("Name", "")), int(entry.get("Soft", 0)), int(entry.get("Hard", 0))
    host = host_limit(name, ctx)
    if host is not None and all(_within(v, host) for v in (soft, hard)):
        return []
    shown = f"{name}={soft}:{hard}"
    limit = "unknown" if host is None else ("unlimited" if host < 0 else host)
    return [host_access("ulimit", key, shown, f"{key} raises {name} above this machine's limit ({limit})", service)]


def host_limit(name: str, ctx: Context) -> int | None:
    """The host's hard limit for a ulimit name (-1: unlimited), None for a name we do not know."""
    if ctx.ulimits is not None:
        return ctx.ulimits.get(name)
    if name not in ULIMITS:
        return None
    hard = resource.getrlimit(ULIMITS[name])[1]
    return -1 if hard == resource.RLIM_INFINITY else hard


def _within(value: int, host: int) -> bool:
    return host < 0 or 0 <= value <= host


def log_config(key: str, config: dict[str, Any], ctx: Context, service: str) -> list[Finding]:
    driver = str(config.get("Type", ""))
    options = [o for o in (config.get("Config") or {}) if o not in LOG_OPTIONS]
    findings = []
    if driver not in LOG_DRIVERS:
        findings.append(host_access("log_driver", key, driver, f"{key} sends the logs to the {driver} driver", service))
    for option in options:
        findings.append(host_access("log_driver", key, option, f"{key} sets the log option {option}", service))
    return findings


def runtime(key: str, value: str, ctx: Context, service: str) -> list[Finding]:
    if value in RUNTIMES:
        return []
    return [host_access("runtime", key, value, f"{key} runs the container with the {value} runtime", service)]
