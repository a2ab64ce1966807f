"""Engine API JSON -> our dataclasses (kept apart from docker.py so it stays small and SDK-free)."""

from __future__ import annotations

import re
from typing import Any

from runtime.base import ContainerCounters, ContainerInfo, ContainerStats, PortBinding, VersionInfo


def version_from_raw(raw: dict[str, Any], api_version: str) -> VersionInfo:
    """Podman's compat API names a component "Podman Engine"; Docker's is "Engine"."""
    components = " ".join(c.get("Name", "") for c in raw.get("Components") or [])
    engine = "podman" if "podman" in components.lower() else "docker"
    return VersionInfo(
        engine=engine,
        version=str(raw.get("Version", "")),
        api_version=str(api_version),
        os=str(raw.get("Os", "")),
        arch=str(raw.get("Arch", "")),
    )


def container_from_inspect(raw: dict[str, Any]) -> ContainerInfo:
    """GET /containers/{id}/json."""
    state = raw.get("State") or {}
    health = (state.get("Health") or state.get("Healthcheck") or {}).get("Status", "")
    ports = []
    for key, binds in ((raw.get("NetworkSettings") or {}).get("Ports") or {}).items():
        port, _, proto = key.partition("/")
        ports += [
            PortBinding(int(port), proto or "tcp", b.get("HostIp", ""), int(b["HostPort"]))
            for b in binds or []
            if b.get("HostPort")
        ]
    return ContainerInfo(
        id=raw["Id"],
        name=raw.get("Name", "").lstrip("/"),
        image=(raw.get("Config") or {}).get("Image", ""),
        state=state.get("Status", ""),
        status=state.get("Status", ""),
        health=health or "",
        exit_code=state.get("ExitCode") if state.get("Status") in ("exited", "dead") else None,
        labels=(raw.get("Config") or {}).get("Labels") or {},
        ports=tuple(ports),
        created=str(raw.get("Created", "")),
    )


def container_from_summary(raw: dict[str, Any]) -> ContainerInfo:
    """GET /containers/json row; health and exit code only exist in the status text there."""
    status = raw.get("Status", "")
    health = re.search(r"\((healthy|unhealthy|health: starting)\)", status)
    code = re.search(r"Exited \((-?\d+)\)", status)
    ports = tuple(
        PortBinding(int(p["PrivatePort"]), p.get("Type", "tcp"), p.get("IP", ""), int(p["PublicPort"]))
        for p in raw.get("Ports") or []
        if p.get("PublicPort")
    )
    return ContainerInfo(
        id=raw["Id"],
        name=(raw.get("Names") or [""])[0].lstrip("/"),
        image=raw.get("Image", ""),
        state=raw.get("State", ""),
        status=status,
        health=health.group(1).replace("health: ", "") if health else "",
        exit_code=int(code.group(1)) if code else None,
        labels=raw.get("Labels") or {},
        ports=ports,
        created=str(raw.get("Created", "")),
    )


def _memory_without_cache(mem: dict[str, Any]) -> int:
    detail = mem.get("stats") or {}
    cache = detail.get("inactive_file", detail.get("total_inactive_file", detail.get("cache", 0)))
    return max(0, int(mem.get("usage") or 0) - int(cache or 0))


def counters_from_raw(raw: dict[str, Any]) -> ContainerCounters:
    """Cumulative counters of one stats reading (Docker and Podman name them alike)."""
    networks = (raw.get("networks") or {}).values()
    return ContainerCounters(
        cpu_ns=int(((raw.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage") or 0),
        memory_usage=_memory_without_cache(raw.get("memory_stats") or {}),
        net_rx=sum(int(n.get("rx_bytes") or 0) for n in networks),
        net_tx=sum(int(n.get("tx_bytes") or 0) for n in networks),
    )


def stats_from_raw(raw: dict[str, Any]) -> ContainerStats:
    """CPU % as `docker stats` computes it; memory without the page cache (cgroup v1 and v2)."""
    cpu, pre = raw.get("cpu_stats") or {}, raw.get("precpu_stats") or {}
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (pre.get("cpu_usage") or {}).get("total_usage", 0)
    sys_delta = (cpu.get("system_cpu_usage") or 0) - (pre.get("system_cpu_usage") or 0)
    online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    percent = 100.0 * cpu_delta / sys_delta * online if sys_delta > 0 and cpu_delta > 0 else 0.0
    mem = raw.get("memory_stats") or {}
    usage = _memory_without_cache(mem)
    return ContainerStats(
        cpu_percent=round(percent, 2),
        memory_usage=usage,
        memory_limit=int(mem.get("limit") or 0),
        online_cpus=int(online),
    )
