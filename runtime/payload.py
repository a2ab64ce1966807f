"""ContainerSpec -> Docker Engine API create body (plain dicts; understood by Docker and Podman's compat API)."""

from __future__ import annotations

import io
import tarfile
from typing import Any

from runtime.specs import (
    ContainerSpec,
    FileSpec,
    HealthcheckSpec,
    MountSpec,
    NetworkAttachment,
    NetworkSpec,
    VolumeSpec,
)

_NS = 1_000_000_000
DEFAULT_PIDS_LIMIT = 4096  # processes a container may run when its compose sets no pids_limit (a fork bomb stops)


def create_body(spec: ContainerSpec, *, default_pids_limit: int | None = None) -> dict[str, Any]:
    """The JSON body of POST /containers/create; only the first network is attached here (API < 1.44).

    `default_pids_limit` applies when the spec sets no pids_limit; it is not part of the spec (nor of its config
    hash), so changing it does not make every existing container look changed."""
    body: dict[str, Any] = {
        "Image": spec.image,
        "Labels": dict(spec.labels),
        "Env": [f"{k}={v}" for k, v in spec.env.items()],
        "ExposedPorts": {f"{p}/tcp" if "/" not in p else p: {} for p in _expose(spec)},
        "Tty": spec.tty,
        "OpenStdin": spec.stdin_open,
        "HostConfig": host_config(spec, default_pids_limit=default_pids_limit),
    }
    for key, value in (("Cmd", spec.command), ("Entrypoint", spec.entrypoint)):
        if value is not None:
            body[key] = list(value)
    optional = {
        "User": spec.user,
        "WorkingDir": spec.working_dir,
        "Hostname": spec.hostname,
        "Domainname": spec.domainname,
        "StopSignal": spec.stop_signal,
        "MacAddress": spec.mac_address,
    }
    body.update({k: v for k, v in optional.items() if v})
    if spec.stop_grace_period is not None:
        body["StopTimeout"] = int(spec.stop_grace_period)
    if spec.healthcheck is not None:
        body["Healthcheck"] = _healthcheck(spec.healthcheck)
    if spec.networks:
        body["NetworkingConfig"] = {"EndpointsConfig": {spec.networks[0].network: endpoint(spec.networks[0])}}
    return body


def host_config(spec: ContainerSpec, *, default_pids_limit: int | None = None) -> dict[str, Any]:
    """HostConfig: mounts, ports, namespaces, privileges and limits."""
    hc: dict[str, Any] = {
        "Binds": [_bind(m) for m in spec.mounts if m.type == "bind" and m.create_host_path],
        "Mounts": [
            _mount(m) for m in spec.mounts if m.type != "tmpfs" and not (m.type == "bind" and m.create_host_path)
        ],
        "Tmpfs": {m.target: _tmpfs_options(m) for m in spec.mounts if m.type == "tmpfs"},
        "PortBindings": _port_bindings(spec),
        "NetworkMode": spec.network_mode or (spec.networks[0].network if spec.networks else "bridge"),
        "RestartPolicy": _restart(spec.restart),
        "Privileged": spec.privileged,
        "ReadonlyRootfs": spec.read_only,
        "CapAdd": list(spec.cap_add),
        "CapDrop": list(spec.cap_drop),
        "Devices": [
            {"PathOnHost": d.host_path, "PathInContainer": d.container_path, "CgroupPermissions": d.permissions}
            for d in spec.devices
        ],
        "SecurityOpt": list(spec.security_opt),
        "ExtraHosts": list(spec.extra_hosts),
        "Dns": list(spec.dns),
        "DnsSearch": list(spec.dns_search),
        "DnsOptions": list(spec.dns_opt),
        "GroupAdd": list(spec.group_add),
    }
    if spec.device_requests:
        hc["DeviceRequests"] = [
            {
                "Driver": r.driver,
                "Count": r.count,
                "DeviceIDs": list(r.device_ids),
                "Capabilities": [list(r.capabilities)],
                "Options": dict(r.options),
            }
            for r in spec.device_requests
        ]
    if spec.sysctls:
        hc["Sysctls"] = dict(spec.sysctls)
    if spec.ulimits:
        hc["Ulimits"] = [{"Name": u.name, "Soft": u.soft, "Hard": u.hard} for u in spec.ulimits]
    if spec.logging and spec.logging.driver:
        hc["LogConfig"] = {"Type": spec.logging.driver, "Config": dict(spec.logging.options)}
    elif spec.logging:
        hc["LogConfig"] = {"Type": "json-file", "Config": dict(spec.logging.options)}
    hc.update(_limits(spec, default_pids_limit))
    return {k: v for k, v in hc.items() if v not in ([], {})}  # Podman dislikes some empty lists; omit them


def network_body(spec: NetworkSpec) -> dict[str, Any]:
    """The JSON body of POST /networks/create (duplicate names are refused, unlike Docker's default)."""
    body: dict[str, Any] = {
        "Name": spec.name,
        "Driver": spec.driver,
        "Options": dict(spec.driver_opts),
        "CheckDuplicate": True,
        "Internal": spec.internal,
        "Labels": dict(spec.labels),
        "EnableIPv6": spec.enable_ipv6,
        "Attachable": spec.attachable,
    }
    if spec.ipam:
        body["IPAM"] = {
            "Driver": spec.ipam.driver or "default",
            "Options": dict(spec.ipam.options),
            "Config": [{_camel(k): v for k, v in pool.items()} for pool in spec.ipam.config],
        }
    return body


def volume_body(spec: VolumeSpec) -> dict[str, Any]:
    """The JSON body of POST /volumes/create."""
    return {"Name": spec.name, "Driver": spec.driver, "DriverOpts": dict(spec.driver_opts), "Labels": dict(spec.labels)}


def endpoint(att: NetworkAttachment) -> dict[str, Any]:
    """EndpointsConfig entry for one network."""
    ep: dict[str, Any] = {"Aliases": list(att.aliases)}
    ipam = {k: v for k, v in (("IPv4Address", att.ipv4_address), ("IPv6Address", att.ipv6_address)) if v}
    if ipam:
        ep["IPAMConfig"] = ipam
    return ep


def files_tar(files: tuple[FileSpec, ...]) -> bytes:
    """A tar archive (rooted at /) of config/secret files; no directory entries, so existing dirs keep their modes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for f in files:
            info = tarfile.TarInfo(f.target.lstrip("/"))
            info.size, info.mode, info.uid, info.gid = len(f.content), f.mode, f.uid, f.gid
            tar.addfile(info, io.BytesIO(f.content))
    return buf.getvalue()


def _limits(spec: ContainerSpec, default_pids_limit: int | None = None) -> dict[str, Any]:
    """CPU, memory and pid limits; unset ones are left out so the engine default applies."""
    values = {
        "NanoCpus": int(spec.cpus * _NS) if spec.cpus else None,
        "CpuShares": spec.cpu_shares,
        "CpusetCpus": spec.cpuset or None,
        "Memory": spec.mem_limit,
        "MemoryReservation": spec.mem_reservation,
        "MemorySwap": spec.memswap_limit,
        "PidsLimit": spec.pids_limit if spec.pids_limit is not None else (default_pids_limit or None),
        "OomScoreAdj": spec.oom_score_adj,
        "ShmSize": spec.shm_size,
        "PidMode": spec.pid or None,
        "IpcMode": spec.ipc or None,
        "UsernsMode": spec.userns_mode or None,
        "CgroupnsMode": spec.cgroup or None,
        "CgroupParent": spec.cgroup_parent or None,
        "Runtime": spec.runtime or None,
        "Init": spec.init,
    }
    return {k: v for k, v in values.items() if v is not None}


def _camel(key: str) -> str:
    """ip_range -> IPRange, subnet -> Subnet (IPAM pool keys)."""
    return {"ip_range": "IPRange"}.get(key, key[:1].upper() + key[1:])


def _expose(spec: ContainerSpec) -> list[str]:
    """Container ports to declare: the published ones plus `expose` (ranges expanded)."""
    ports = [f"{p.target}/{p.protocol}" for p in spec.ports]
    for item in spec.expose:
        port, _, proto = item.partition("/")
        low, _, high = port.partition("-")
        ports += [f"{n}/{proto or 'tcp'}" for n in range(int(low), int(high or low) + 1)]
    return list(dict.fromkeys(ports))


def _port_bindings(spec: ContainerSpec) -> dict[str, list[dict[str, str]]]:
    """PortBindings; an unset published port asks the engine for a free one."""
    bindings: dict[str, list[dict[str, str]]] = {}
    for p in spec.ports:
        host_port = "" if p.published is None else str(p.published)
        bindings.setdefault(f"{p.target}/{p.protocol}", []).append({"HostIp": p.host_ip, "HostPort": host_port})
    return bindings


def _bind(m: MountSpec) -> str:
    """A `Binds` entry ("src:dst:ro,rshared"); Binds create a missing source directory, Mounts do not."""
    opts = [o for o in ("ro" if m.read_only else "", m.propagation) if o]
    return f"{m.source}:{m.target}" + (":" + ",".join(opts) if opts else "")


def _mount(m: MountSpec) -> dict[str, Any]:
    """A `Mounts` entry for volumes and binds whose source must already exist."""
    mount: dict[str, Any] = {"Type": m.type, "Target": m.target, "ReadOnly": m.read_only}
    if m.source:
        mount["Source"] = m.source
    if m.type == "bind" and m.propagation:
        mount["BindOptions"] = {"Propagation": m.propagation}
    if m.type == "volume" and m.nocopy:
        mount["VolumeOptions"] = {"NoCopy": True}
    return mount


def _tmpfs_options(m: MountSpec) -> str:
    """HostConfig.Tmpfs option string (size in bytes, octal mode, extra flags)."""
    opts = list(m.tmpfs_options)
    if m.read_only:
        opts.append("ro")
    if m.tmpfs_size is not None:
        opts.append(f"size={m.tmpfs_size}")
    if m.tmpfs_mode is not None:
        opts.append(f"mode={m.tmpfs_mode:o}")
    return ",".join(opts)


def _restart(policy: str) -> dict[str, Any]:
    """RestartPolicy from "no" / "always" / "unless-stopped" / "on-failure[:N]"."""
    name, _, count = policy.partition(":")
    result: dict[str, Any] = {"Name": "" if name == "no" else name}
    if count:
        result["MaximumRetryCount"] = int(count)
    return result


def _healthcheck(hc: HealthcheckSpec) -> dict[str, Any]:
    """Healthcheck with durations in nanoseconds; an empty test keeps the image's own command."""
    result: dict[str, Any] = {"Test": list(hc.test)} if hc.test else {}
    for key, value in (
        ("Interval", hc.interval),
        ("Timeout", hc.timeout),
        ("StartPeriod", hc.start_period),
        ("StartInterval", hc.start_interval),
    ):
        if value is not None:
            result[key] = int(value * _NS)
    if hc.retries is not None:
        result["Retries"] = hc.retries
    return result
