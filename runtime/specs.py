"""Normalised, engine-neutral specs: what we ask the engine to create (frozen dataclasses in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

MountType = Literal["bind", "volume", "tmpfs"]


@dataclass(frozen=True)
class PortSpec:
    """One published or exposed container port (ranges are expanded to one PortSpec each)."""

    target: int
    published: int | None = None  # None: the engine picks a free host port
    protocol: Literal["tcp", "udp", "sctp"] = "tcp"
    host_ip: str = ""


@dataclass(frozen=True)
class MountSpec:
    """A bind, named volume or tmpfs mount; every compose spelling ends up here."""

    type: MountType
    target: str
    source: str = ""  # host path (bind) or engine volume name (volume)
    read_only: bool = False
    create_host_path: bool = True  # bind only: create a missing source dir like `-v` does
    propagation: str = ""
    nocopy: bool = False
    tmpfs_size: int | None = None
    tmpfs_mode: int | None = None
    tmpfs_options: tuple[str, ...] = ()  # extra mount flags such as noexec, nosuid


@dataclass(frozen=True)
class DeviceSpec:
    """A host device node passed into the container."""

    host_path: str
    container_path: str
    permissions: str = "rwm"


@dataclass(frozen=True)
class DeviceRequest:
    """A GPU style device request (deploy.resources.reservations.devices)."""

    driver: str = ""
    count: int = 0  # -1 means all
    device_ids: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Ulimit:
    """One resource limit (nofile, nproc, ...)."""

    name: str
    soft: int
    hard: int


@dataclass(frozen=True)
class HealthcheckSpec:
    """Healthcheck with durations in seconds; test ("NONE",) disables the image's check."""

    test: tuple[str, ...]
    interval: float | None = None
    timeout: float | None = None
    retries: int | None = None
    start_period: float | None = None
    start_interval: float | None = None


@dataclass(frozen=True)
class Dependency:
    """depends_on entry: which service, and what state it must reach before we start."""

    service: str
    condition: Literal["service_started", "service_healthy", "service_completed_successfully"] = "service_started"
    required: bool = True
    restart: bool = False


@dataclass(frozen=True)
class NetworkAttachment:
    """A container's membership of one network (engine name)."""

    network: str
    aliases: tuple[str, ...] = ()
    ipv4_address: str = ""
    ipv6_address: str = ""


@dataclass(frozen=True)
class LoggingSpec:
    """Log driver and its options."""

    driver: str = ""
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FileSpec:
    """A file copied into the container before start (compose `configs`/`secrets` with inline content)."""

    target: str
    content: bytes
    mode: int = 0o444
    uid: int = 0
    gid: int = 0
    secret: bool = False  # from compose `secrets`: a Swarm secret (encrypted in the swarm's store), not a config


@dataclass(frozen=True)
class ContainerSpec:
    """Everything needed to create one container; a policy checker reads the same object."""

    name: str
    image: str
    service: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    env: dict[str, str] = field(default_factory=dict)
    ports: tuple[PortSpec, ...] = ()
    expose: tuple[str, ...] = ()
    mounts: tuple[MountSpec, ...] = ()
    networks: tuple[NetworkAttachment, ...] = ()
    network_mode: str = ""  # "", host, none, bridge, container:<name>
    depends_on: tuple[Dependency, ...] = ()
    healthcheck: HealthcheckSpec | None = None
    restart: str = "no"
    user: str = ""
    working_dir: str = ""
    hostname: str = ""
    domainname: str = ""
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    devices: tuple[DeviceSpec, ...] = ()
    device_requests: tuple[DeviceRequest, ...] = ()
    privileged: bool = False
    pid: str = ""
    ipc: str = ""
    userns_mode: str = ""
    cgroup: str = ""  # cgroup namespace: "" (the engine's default), private or host
    cgroup_parent: str = ""
    security_opt: tuple[str, ...] = ()
    sysctls: dict[str, str] = field(default_factory=dict)
    ulimits: tuple[Ulimit, ...] = ()
    group_add: tuple[str, ...] = ()
    shm_size: int | None = None
    extra_hosts: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_opt: tuple[str, ...] = ()
    stop_signal: str = ""
    stop_grace_period: float | None = None
    init: bool | None = None
    tty: bool = False
    stdin_open: bool = False
    read_only: bool = False
    cpus: float | None = None
    cpu_shares: int | None = None
    cpuset: str = ""
    mem_limit: int | None = None
    mem_reservation: int | None = None
    cpus_reservation: float | None = None  # recorded for the UI; plain containers have no CPU reservation
    memswap_limit: int | None = None
    pids_limit: int | None = None
    oom_score_adj: int | None = None
    runtime: str = ""
    platform: str = ""
    mac_address: str = ""
    logging: LoggingSpec | None = None
    pull_policy: Literal["missing", "always", "never"] = "missing"  # when the installer pulls the image
    files: tuple[FileSpec, ...] = ()
    extensions: dict[str, Any] = field(default_factory=dict)  # service-level x-* (e.g. x-casaos), untouched

    @property
    def bind_sources(self) -> tuple[str, ...]:
        """Every host path this container mounts, whatever syntax the compose file used."""
        return tuple(m.source for m in self.mounts if m.type == "bind")


@dataclass(frozen=True)
class IpamSpec:
    """IPAM driver and pools of a network."""

    driver: str = ""
    config: tuple[dict[str, str], ...] = ()
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NetworkSpec:
    """A network to create (or, when external, to expect)."""

    name: str
    key: str = ""  # the compose key, e.g. "default"
    driver: str = "bridge"
    driver_opts: dict[str, str] = field(default_factory=dict)
    internal: bool = False
    attachable: bool = False
    enable_ipv6: bool = False
    ipam: IpamSpec | None = None
    labels: dict[str, str] = field(default_factory=dict)
    external: bool = False


@dataclass(frozen=True)
class VolumeSpec:
    """A named volume to create (or, when external, to expect)."""

    name: str
    key: str = ""
    driver: str = "local"
    driver_opts: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    external: bool = False
