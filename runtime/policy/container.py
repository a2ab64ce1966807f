"""The allowlist over every key of a container create payload: a key no rule knows is never let through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runtime import labels as L
from runtime.policy import mounts, namespaces, values
from runtime.policy.model import Context, Finding, host_access, refused

Rule = Callable[[str, Any, Context, str], list[Finding]]

# Keys that reach nothing outside the container (limits are checked against the host's resources elsewhere).
SAFE_TOP = frozenset(
    {
        "Image",
        "Env",
        "ExposedPorts",
        "Tty",
        "OpenStdin",
        "Cmd",
        "Entrypoint",
        "User",
        "WorkingDir",
        "Hostname",
        "Domainname",
        "StopSignal",
        "MacAddress",
        "StopTimeout",
        "Healthcheck",
    }
)
SAFE_HOST = frozenset(
    {
        "PortBindings",
        "RestartPolicy",
        "ReadonlyRootfs",
        "CapDrop",
        "ExtraHosts",
        "Dns",
        "DnsSearch",
        "DnsOptions",
        "GroupAdd",
        "Tmpfs",
        "Init",
        "NanoCpus",
        "CpuShares",
        "CpusetCpus",
        "Memory",
        "MemoryReservation",
        "MemorySwap",
        "PidsLimit",
        "ShmSize",
    }
)


def _privileged(key: str, value: bool, ctx: Context, service: str) -> list[Finding]:
    reason = f"{key} true gives the container every device and capability of this machine"
    return [host_access("privileged", key, "true", reason, service)] if value else []


def _devices(key: str, devices: list[dict[str, Any]], ctx: Context, service: str) -> list[Finding]:
    return [
        host_access(
            "devices", key, d.get("PathOnHost", ""), f"{key} passes the host device {d.get('PathOnHost')}", service
        )
        for d in devices
    ]


def _device_requests(key: str, requests: list[dict[str, Any]], ctx: Context, service: str) -> list[Finding]:
    return [
        host_access(
            "gpu",
            key,
            r.get("Driver") or "gpu",
            f"{key} asks for the host's {r.get('Driver') or 'GPU'} devices",
            service,
        )
        for r in requests
    ]


def _cgroup_parent(key: str, value: str, ctx: Context, service: str) -> list[Finding]:
    reason = f"{key} {value!r} places the container in a control group of the host's choosing"
    return [host_access("cgroup_parent", key, value, reason, service)] if value else []


def _labels(key: str, labels: dict[str, str], ctx: Context, service: str) -> list[Finding]:
    """Our ownership labels name this app, or the container would pass for another app's."""
    wrong = [k for k in (L.APP, L.PROJECT) if k in labels and labels[k] != ctx.app]
    return [refused("labels", f"{key}.{k}", labels[k], f"{key} {k} names another app", service) for k in wrong]


HOST_RULES: dict[str, Rule] = {
    "Binds": mounts.binds,
    "Mounts": mounts.mounts,
    "NetworkMode": namespaces.network_mode,
    "PidMode": namespaces.mode,
    "IpcMode": namespaces.mode,
    "UTSMode": namespaces.mode,
    "UsernsMode": namespaces.mode,
    "CgroupnsMode": namespaces.mode,
    "Privileged": _privileged,
    "CapAdd": values.cap_add,
    "Devices": _devices,
    "DeviceRequests": _device_requests,
    "SecurityOpt": values.security_opt,
    "Sysctls": values.sysctls,
    "Ulimits": values.ulimits,
    "OomScoreAdj": values.oom_score_adj,
    "LogConfig": values.log_config,
    "CgroupParent": _cgroup_parent,
    "Runtime": values.runtime,
}
TOP_RULES: dict[str, Rule] = {"Labels": _labels, "NetworkingConfig": namespaces.endpoints}


def container_findings(body: dict[str, Any], ctx: Context, service: str) -> list[Finding]:
    """Every finding of one create body (POST /containers/create)."""
    findings = [f for key, value in body.items() if key != "HostConfig" for f in _top(key, value, ctx, service)]
    host = body.get("HostConfig") or {}
    return findings + [f for key, value in host.items() for f in _host(key, value, ctx, service)]


def _top(key: str, value: Any, ctx: Context, service: str) -> list[Finding]:
    if key in SAFE_TOP:
        return []
    if key in TOP_RULES:
        return TOP_RULES[key](key, value, ctx, service)
    return [refused("unknown_key", key, key, f"{key} is not a setting the policy knows", service)]


def _host(key: str, value: Any, ctx: Context, service: str) -> list[Finding]:
    path = f"HostConfig.{key}"
    if key in SAFE_HOST:
        return []
    if key in HOST_RULES:
        return HOST_RULES[key](path, value, ctx, service)
    return [host_access("unknown_key", path, key, f"{path} is not a setting the policy knows to be safe", service)]
