"""ContainerSpec -> Swarm ServiceSpec (API 1.41 JSON): a container becomes a replicated service of one task.

What a Swarm service cannot carry is refused with the compose key that asked for it, before anything is made:
a service that silently lost `privileged` or a device would run, but not as the app expects.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

from runtime.errors import InvalidSpec
from runtime.specs import ContainerSpec, FileSpec, HealthcheckSpec, MountSpec, PortSpec, VolumeSpec

_NS = 1_000_000_000
OWNER = "io.casaos.swarm.service"  # on a config: the service it was made for (removed with it)
SERVICE_NETWORKS = ("host",)  # network_mode values a service can have: Swarm's own "host" network
# The engine's default network, as most store apps ask ("network_mode: bridge"): a service attached to no network
# runs on its node's default bridge, as `docker run` would put it.
DEFAULT_NETWORKS = ("bridge", "default")
_ANY_ADDRESS = ("", "0.0.0.0", "::")


def refusals(spec: ContainerSpec) -> Iterator[str]:
    """The compose keys of `spec` a Swarm service cannot honour (nothing when it can run as asked)."""
    flags = {
        "privileged": spec.privileged,
        "devices": spec.devices,
        "deploy.resources.reservations.devices": spec.device_requests,
        "pid": spec.pid,
        "ipc": spec.ipc,
        "userns_mode": spec.userns_mode,
        "cgroup": spec.cgroup,
        "cgroup_parent": spec.cgroup_parent,
        "security_opt": spec.security_opt,
        "cpu_shares": spec.cpu_shares,
        "cpuset": spec.cpuset,
        "memswap_limit": spec.memswap_limit,
        "oom_score_adj": spec.oom_score_adj,
        "shm_size": spec.shm_size,
        "runtime": spec.runtime,
        "platform": spec.platform,
        "mac_address": spec.mac_address,
        "domainname": spec.domainname,
    }
    yield from (key for key, value in flags.items() if value)
    if spec.network_mode and spec.network_mode not in SERVICE_NETWORKS + DEFAULT_NETWORKS:
        yield "network_mode"
    if any(a.ipv4_address or a.ipv6_address for a in spec.networks):
        yield "networks.ipv4_address"
    if any(p.host_ip not in _ANY_ADDRESS for p in spec.ports):
        yield "ports (host address)"  # a host-mode port listens on every address of its node
    if any(m.type == "tmpfs" and m.tmpfs_options for m in spec.mounts):
        yield "tmpfs options"  # API 1.41 TmpfsOptions has size and mode only


def refuse_unsupported(spec: ContainerSpec) -> None:
    """Raise InvalidSpec naming the first key of `spec` that Swarm cannot honour."""
    for key in refusals(spec):
        raise InvalidSpec.worded(
            "%(service)s uses %(key)s, which a Docker Swarm service cannot have: remove it to run the app on "
            "the swarm, or install it on this box",
            service=spec.service or spec.name,
            key=key,
        )


def config_name(service: str, index: int, file: FileSpec) -> str:
    """A config's name: the service's, the file's place and a digest of its content (configs are immutable)."""
    digest = hashlib.sha256(file.content + file.target.encode()).hexdigest()[:10]
    return f"{service[:48]}-{index}-{digest}"


def config_body(name: str, file: FileSpec, labels: Mapping[str, str], service: str) -> dict[str, Any]:
    """POST /configs/create: the file's content, labelled as the app's and as `service`'s own."""
    return {"Name": name, "Labels": {**labels, OWNER: service}, "Data": base64.b64encode(file.content).decode()}


def service_spec(
    spec: ContainerSpec,
    *,
    constraints: list[str],
    configs: Mapping[str, str] | None = None,
    volumes: Mapping[str, VolumeSpec] | None = None,
    replicas: int = 0,
    pids_limit: int | None = None,
) -> dict[str, Any]:
    """The ServiceSpec of one container: `configs` maps each file's config name to its id; `volumes` gives the
    labels and driver of named volumes (created by the node running the task, from the mount's options)."""
    refuse_unsupported(spec)
    task: dict[str, Any] = {
        "ContainerSpec": container_spec(spec, configs or {}, volumes or {}),
        "Resources": _resources(spec, pids_limit),
        "RestartPolicy": restart_policy(spec.restart),
        "Placement": {"Constraints": list(constraints)},
        "Networks": _networks(spec),
    }
    if spec.logging is not None:
        task["LogDriver"] = {"Name": spec.logging.driver or "json-file", "Options": dict(spec.logging.options)}
    return {
        "Name": spec.name,
        "Labels": dict(spec.labels),
        "TaskTemplate": task,
        "Mode": {"Replicated": {"Replicas": replicas}},
        # DNS round robin: a virtual IP needs IPVS, which this kind of kernel may lack (and one task needs no VIP).
        "EndpointSpec": {"Mode": "dnsrr", "Ports": _ports(spec)},
    }


def container_spec(spec: ContainerSpec, configs: Mapping[str, str], volumes: Mapping[str, VolumeSpec]) -> dict:
    """TaskTemplate.ContainerSpec: the process, its files, mounts and limits inside the container."""
    body: dict[str, Any] = {
        "Image": spec.image,
        "Labels": dict(spec.labels),  # on the task's container too: ours are found by label on every node
        "Env": [f"{k}={v}" for k, v in spec.env.items()],
        "Mounts": [mount(m, volumes.get(m.source)) for m in spec.mounts],
        "TTY": spec.tty,
        "OpenStdin": spec.stdin_open,
        "ReadOnly": spec.read_only,
        "Configs": [_config_ref(spec, i, f, configs) for i, f in enumerate(spec.files)],
    }
    if spec.entrypoint is not None:  # Swarm's Command is the entrypoint, its Args the command
        body["Command"] = list(spec.entrypoint)
        body["Args"] = list(spec.command or ())
    elif spec.command is not None:
        body["Args"] = list(spec.command)
    body.update(_process(spec))
    if spec.healthcheck is not None:
        body["HealthCheck"] = healthcheck(spec.healthcheck)
    return {k: v for k, v in body.items() if v not in ([], {}, None, "")}


def _process(spec: ContainerSpec) -> dict[str, Any]:
    """User, directory, names, signals and kernel settings (left out when unset)."""
    values: dict[str, Any] = {
        "User": spec.user,
        "Dir": spec.working_dir,
        "Hostname": spec.hostname,
        "StopSignal": spec.stop_signal,
        "Groups": list(spec.group_add),
        "CapabilityAdd": list(spec.cap_add),
        "CapabilityDrop": list(spec.cap_drop),
        "Sysctls": dict(spec.sysctls),
        "Hosts": [_host_entry(h) for h in spec.extra_hosts],
        "Ulimits": [{"Name": u.name, "Soft": u.soft, "Hard": u.hard} for u in spec.ulimits],
        "Init": spec.init,
    }
    if spec.stop_grace_period is not None:
        values["StopGracePeriod"] = int(spec.stop_grace_period * _NS)
    dns = {"Nameservers": list(spec.dns), "Search": list(spec.dns_search), "Options": list(spec.dns_opt)}
    if any(dns.values()):
        values["DNSConfig"] = dns
    return values


def _host_entry(text: str) -> str:
    """Compose's "host:ip" as Swarm's /etc/hosts line "ip host" (an IPv6 address keeps its colons)."""
    host, _colon, ip = text.partition(":")
    return f"{ip} {host}"


def _config_ref(spec: ContainerSpec, index: int, file: FileSpec, configs: Mapping[str, str]) -> dict[str, Any]:
    """A config mounted as a file at its target, with the file's owner and mode."""
    name = config_name(spec.name, index, file)
    return {
        "File": {"Name": file.target, "UID": str(file.uid), "GID": str(file.gid), "Mode": file.mode},
        "ConfigID": configs.get(name, ""),
        "ConfigName": name,
    }


def mount(m: MountSpec, volume: VolumeSpec | None = None) -> dict[str, Any]:
    """One Mounts entry; a named volume carries its labels and driver, so the node that creates it labels it."""
    body: dict[str, Any] = {"Type": m.type, "Target": m.target, "ReadOnly": m.read_only}
    if m.source:
        body["Source"] = m.source
    if m.type == "bind" and m.propagation:
        body["BindOptions"] = {"Propagation": m.propagation}
    if m.type == "volume":
        body["VolumeOptions"] = _volume_options(m, volume)
    if m.type == "tmpfs":
        tmpfs = {"SizeBytes": m.tmpfs_size, "Mode": m.tmpfs_mode}
        body["TmpfsOptions"] = {k: v for k, v in tmpfs.items() if v is not None}
    return body


def _volume_options(m: MountSpec, volume: VolumeSpec | None) -> dict[str, Any]:
    options: dict[str, Any] = {"NoCopy": m.nocopy}
    if volume is not None:
        options["Labels"] = dict(volume.labels)
        options["DriverConfig"] = {"Name": volume.driver or "local", "Options": dict(volume.driver_opts)}
    return options


def healthcheck(hc: HealthcheckSpec) -> dict[str, Any]:
    """HealthCheck with durations in nanoseconds; an empty test keeps the image's own command."""
    result: dict[str, Any] = {"Test": list(hc.test)} if hc.test else {}
    durations = (
        ("Interval", hc.interval),
        ("Timeout", hc.timeout),
        ("StartPeriod", hc.start_period),
    )  # StartInterval arrived with API 1.44
    result.update({key: int(value * _NS) for key, value in durations if value is not None})
    if hc.retries is not None:
        result["Retries"] = hc.retries
    return result


def restart_policy(policy: str) -> dict[str, Any]:
    """Compose's restart as Swarm's: no -> none, always/unless-stopped -> any, on-failure[:N] -> on-failure."""
    name, _colon, count = policy.partition(":")
    condition = {"no": "none", "on-failure": "on-failure"}.get(name, "any")
    result: dict[str, Any] = {"Condition": condition, "Delay": _NS}  # Swarm's default waits 5 s between attempts
    if count:
        result["MaxAttempts"] = int(count)
    return result


def _resources(spec: ContainerSpec, pids_limit: int | None) -> dict[str, Any]:
    """Limits (CPU, memory, processes) and reservations (what the scheduler keeps free on the node)."""
    pids = spec.pids_limit if spec.pids_limit is not None else pids_limit
    limits = {"NanoCPUs": _nanos(spec.cpus), "MemoryBytes": spec.mem_limit, "Pids": pids or None}
    reservations = {"NanoCPUs": _nanos(spec.cpus_reservation), "MemoryBytes": spec.mem_reservation}
    return {
        "Limits": {k: v for k, v in limits.items() if v},
        "Reservations": {k: v for k, v in reservations.items() if v},
    }


def _nanos(cpus: float | None) -> int | None:
    return int(cpus * _NS) if cpus else None


def _networks(spec: ContainerSpec) -> list[dict[str, Any]]:
    """The overlay networks with the service's aliases (how the app's services find each other)."""
    if spec.network_mode in DEFAULT_NETWORKS:
        return []
    if spec.network_mode:
        return [{"Target": spec.network_mode}]
    return [{"Target": a.network, "Aliases": list(a.aliases)} for a in spec.networks]


def _ports(spec: ContainerSpec) -> list[dict[str, Any]]:
    """Published ports in host mode: the node running the task listens (no routing mesh: it needs IPVS)."""
    return [_port(p) for p in spec.ports]


def _port(p: PortSpec) -> dict[str, Any]:
    body: dict[str, Any] = {"Protocol": p.protocol, "TargetPort": p.target, "PublishMode": "host"}
    if p.published is not None:
        body["PublishedPort"] = p.published
    return body
