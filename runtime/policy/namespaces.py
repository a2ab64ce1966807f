"""Namespaces: the engine's default, or joining another container of the same app; anything else is host access."""

from __future__ import annotations

from typing import Any

from runtime.policy.model import Context, Finding, host_access

# Values that keep the container in a namespace of its own (or none at all).
OWN = {
    "HostConfig.PidMode": frozenset({""}),
    "HostConfig.IpcMode": frozenset({"", "private", "shareable", "none"}),
    "HostConfig.UTSMode": frozenset({""}),
    "HostConfig.UsernsMode": frozenset({""}),
    "HostConfig.CgroupnsMode": frozenset({"", "private"}),
}
NETWORK_OWN = frozenset({"", "bridge", "default", "none"})
CODES = {
    "HostConfig.PidMode": "host_pid",
    "HostConfig.IpcMode": "host_ipc",
    "HostConfig.UTSMode": "host_uts",
    "HostConfig.UsernsMode": "host_userns",
    "HostConfig.CgroupnsMode": "host_cgroup",
    "HostConfig.NetworkMode": "host_network",
}


def mode(key: str, value: str, ctx: Context, service: str) -> list[Finding]:
    """PidMode, IpcMode, UTSMode, UsernsMode, CgroupnsMode."""
    if value in OWN[key] or _own_container(value, ctx):
        return []
    return [_finding(key, value, service)]


def network_mode(key: str, value: str, ctx: Context, service: str) -> list[Finding]:
    if value != "host" and (value in NETWORK_OWN or value in ctx.networks or _own_container(value, ctx)):
        return []
    return [_finding(key, value, service)]


def endpoints(key: str, config: dict[str, Any], ctx: Context, service: str) -> list[Finding]:
    """NetworkingConfig: only networks the app declares (and never the host's)."""
    networks = (config or {}).get("EndpointsConfig") or {}
    return [f for name in networks for f in network_mode(f"{key}.EndpointsConfig", name, ctx, service)]


def _own_container(value: str, ctx: Context) -> bool:
    kind, _sep, name = value.partition(":")
    return kind == "container" and name in ctx.containers


def _finding(key: str, value: str, service: str) -> Finding:
    code = "other_container" if value.startswith("container:") else "namespace"
    if value == "host":
        code = CODES.get(key, "host_network")
        reason = f"{key} host shares this machine's namespace with the container"
    elif value.startswith("container:"):
        reason = f"{key} {value} joins a container that is not part of this app"
    else:
        reason = f"{key} {value!r} is neither the default nor a namespace of this app"
    return host_access(code, key, value, reason, service)
