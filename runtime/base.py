"""The engine interface: frozen spec dataclasses in (runtime.specs), plain dataclasses out."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from runtime.errors import EngineError, PoolExhausted, SubnetTaken
from runtime.specs import ContainerSpec, NetworkSpec, VolumeSpec
from runtime.subnets import SPREAD, Subnet, SubnetPool, host_routes, parse_subnets, wants_pool, with_subnet

LabelFilter = Mapping[str, str | None]  # {"io.casaos.app": "nextcloud"}; None matches any value


@dataclass(frozen=True)
class VersionInfo:
    """Which engine answers and which API version we negotiated."""

    engine: str  # "docker" or "podman"
    version: str
    api_version: str
    os: str = ""
    arch: str = ""


@dataclass(frozen=True)
class HostResources:
    """What the engine's host has: the ceiling of any container's memory and CPU requests."""

    memory: int  # bytes of RAM
    cpus: int
    swap: int = 0  # bytes; 0 when unknown (the engine does not say, and it is not this machine)


@dataclass(frozen=True)
class PullProgress:
    """One progress report of a pull, per layer; bytes are 0 while unknown."""

    image: str
    layer: str  # "" for image-level messages ("Digest: ...", "Status: ...")
    status: str  # Pulling fs layer, Waiting, Downloading, Download complete, Extracting, Pull complete, ...
    current: int = 0
    total: int = 0


@dataclass(frozen=True)
class PortBinding:
    """A published port as the engine reports it."""

    target: int
    protocol: str
    host_ip: str
    host_port: int


@dataclass(frozen=True)
class ContainerInfo:
    """A container as listed or inspected."""

    id: str
    name: str
    image: str
    state: str  # created, running, paused, restarting, exited, dead
    status: str = ""  # human text, e.g. "Up 3 seconds (healthy)"
    health: str = ""  # "", starting, healthy, unhealthy
    exit_code: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    ports: tuple[PortBinding, ...] = ()
    created: str = ""

    @property
    def running(self) -> bool:
        """True while the process runs (paused and restarting count as not running)."""
        return self.state == "running"


@dataclass(frozen=True)
class NetworkInfo:
    """A network as listed."""

    id: str
    name: str
    driver: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VolumeInfo:
    """A volume as listed."""

    name: str
    driver: str
    labels: dict[str, str] = field(default_factory=dict)
    mountpoint: str = ""


@dataclass(frozen=True)
class ContainerStats:
    """One resource sample of a running container."""

    cpu_percent: float  # 100.0 = one full core
    memory_usage: int  # bytes, page cache excluded (as `docker stats` shows)
    memory_limit: int
    online_cpus: int = 1

    @property
    def memory_percent(self) -> float:
        """Memory use against the limit (the host's RAM when unlimited)."""
        return 100.0 * self.memory_usage / self.memory_limit if self.memory_limit else 0.0


@dataclass(frozen=True)
class ContainerCounters:
    """A running container's cumulative counters, for rates over a chosen interval (no wait for a second reading)."""

    cpu_ns: int  # CPU time used since the container started
    memory_usage: int  # bytes now, page cache excluded
    net_rx: int  # bytes received since it started, over all its interfaces
    net_tx: int


@dataclass(frozen=True)
class EngineEvent:
    """A container event (create, start, die, stop, destroy, health_status: healthy, ...)."""

    container_id: str
    action: str
    labels: dict[str, str]
    time: datetime
    name: str = ""
    image: str = ""
    exit_code: int | None = None


class ExecSession(Protocol):
    """A running exec: a socket-like byte stream to a process inside a container (for a terminal)."""

    def send(self, data: bytes) -> int:
        """Write to the process's stdin."""

    def recv(self, size: int = 4096) -> bytes:
        """Read raw output (multiplexed frames when tty=False); b"" at EOF."""

    def read_all(self) -> bytes:
        """Read until EOF, de-multiplexing stdout/stderr when tty=False."""

    def close_write(self) -> None:
        """Signal EOF on stdin."""

    def close(self) -> None:
        """Close the stream (the process gets SIGHUP when tty=True)."""

    def fileno(self) -> int:
        """For select()/asyncio readers."""

    def resize(self, rows: int, cols: int) -> None:
        """Resize the tty."""

    def exit_code(self) -> int | None:
        """The exit code once the process ended, else None."""


class EventStream(Protocol):
    """An iterator of events that can be closed from the consuming side."""

    def __iter__(self) -> Iterator[EngineEvent]:
        """Events as they happen."""

    def __next__(self) -> EngineEvent:
        """The next event (blocks)."""

    def close(self) -> None:
        """Stop listening."""


ProgressCallback = Callable[[PullProgress], None]


class Engine(abc.ABC):
    """A Docker-API speaking container engine (Docker or Podman). Every failure is an EngineError."""

    url: str

    @abc.abstractmethod
    def version(self) -> VersionInfo:
        """Engine name, version and negotiated API version; raises EngineUnavailable if it does not answer."""

    def host_resources(self) -> HostResources:
        """The memory and CPUs of the machine the engine runs containers on."""
        raise NotImplementedError

    def data_root(self) -> str:
        """Where the engine keeps images, containers and volumes (Docker's /var/lib/docker); "" when unknown."""
        return ""

    def service_names_resolve(self) -> bool:
        """Whether containers on an app network find each other by service name (an app finding its database)."""
        return True

    @abc.abstractmethod
    def pull(self, image: str, on_progress: ProgressCallback | None = None) -> str:
        """Pull an image, reporting per-layer byte progress; returns the local image id."""

    @abc.abstractmethod
    def image_exists(self, image: str) -> bool:
        """True when the image is present locally."""

    @abc.abstractmethod
    def remove_image(self, image: str, *, force: bool = False) -> None:
        """Remove a local image (NotFound when absent, Conflict when in use)."""

    def image_id(self, image: str) -> str:
        """The local image id of a reference ("" when absent): what a rollback pins containers to."""
        raise NotImplementedError

    def registry_digest(self, image: str) -> str:
        """The manifest digest the registry serves for a tag now, without pulling (for update checks)."""
        raise NotImplementedError

    def image_digests(self, image: str) -> tuple[str, ...]:
        """The registry digests (repo@sha256:...) of the local image, empty for an image never pulled."""
        raise NotImplementedError

    def container_config(self, ref: str) -> dict:
        """The engine's raw inspect document of a container (to describe or adopt a foreign one)."""
        raise NotImplementedError

    def run_healthcheck(self, ref: str) -> None:
        """Run a container's health check once now where the engine does not schedule them itself (Podman
        without systemd); a no-op where the engine runs them on its own (Docker). The result shows in inspect()."""

    @abc.abstractmethod
    def create(self, spec: ContainerSpec) -> str:
        """Create a container (attached to all its networks, config files copied in); returns its id."""

    @abc.abstractmethod
    def start(self, ref: str) -> None:
        """Start a container by id or name (PortInUse when a published port is taken)."""

    @abc.abstractmethod
    def stop(self, ref: str, *, timeout: float | None = None) -> None:
        """Stop a container, killing it after `timeout` seconds (its own stop timeout when None)."""

    @abc.abstractmethod
    def restart(self, ref: str, *, timeout: float | None = None) -> None:
        """Restart a container."""

    def halt(self, ref: str) -> None:
        """Stop a container for good: its restart policy no longer brings it back (`docker update --restart=no`
        where the engine can change it in place, then a stop that holds)."""
        raise NotImplementedError

    def restart_policy_set(self, ref: str, policy: str) -> bool:
        """Change a container's restart policy in place; False where the engine cannot (Podman 4 has no API for it)."""
        raise NotImplementedError

    @abc.abstractmethod
    def remove(self, ref: str, *, force: bool = False, volumes: bool = False) -> None:
        """Remove a container; `volumes` also removes its anonymous volumes."""

    @abc.abstractmethod
    def rename(self, ref: str, name: str) -> None:
        """Give a container another name (Conflict when the name is taken, NotFound when the container is gone);
        renaming it to the name it has already is not an error. Its labels, volumes and id stay."""

    @abc.abstractmethod
    def wait(self, ref: str, *, timeout: float | None = None) -> int:
        """Block until the container exits; returns its exit code."""

    @abc.abstractmethod
    def inspect(self, ref: str) -> ContainerInfo:
        """One container by id or name."""

    @abc.abstractmethod
    def list(self, labels: LabelFilter, *, all: bool = True) -> list[ContainerInfo]:
        """Containers carrying all the given labels."""

    @abc.abstractmethod
    def logs(
        self, ref: str, *, follow: bool = False, tail: int | None = None, timestamps: bool = False
    ) -> Iterator[str]:
        """Log lines (stdout and stderr, no trailing newline); with follow, until the container stops or close()."""

    @abc.abstractmethod
    def stats(self, ref: str) -> ContainerStats:
        """One CPU/memory sample."""

    @abc.abstractmethod
    def counters(self, ref: str) -> ContainerCounters:
        """Cumulative CPU time, memory and network bytes of a running container."""

    @abc.abstractmethod
    def exec(
        self,
        ref: str,
        cmd: list[str],
        *,
        tty: bool = True,
        user: str = "",
        workdir: str = "",
        env: Mapping[str, str] | None = None,
    ) -> ExecSession:
        """Start a process inside a running container and return its stream."""

    @abc.abstractmethod
    def events(
        self, *, labels: LabelFilter | None = None, since: datetime | None = None, until: datetime | None = None
    ) -> EventStream:
        """Container events, optionally only for matching labels; endless unless `until` is given."""

    @abc.abstractmethod
    def create_network(self, spec: NetworkSpec) -> str:
        """Create a network; Conflict if the name exists."""

    def network_subnets(self) -> list[str]:
        """Every subnet (CIDR text) any network on the engine holds."""
        raise NotImplementedError

    def create_network_in_pool(self, spec: NetworkSpec, pool: SubnetPool, *, attempts: int = 10) -> str:
        """Create a network, on a free subnet of `pool` when the file gives it none (a bridge without ipam).

        Race-free between workers creating networks at once: each asks the engine which subnets are taken, takes
        a free one, and when the engine refuses it because another network took it meanwhile, asks again.
        """
        if not wants_pool(spec):
            return self.create_network(spec)
        refused: list[Subnet] = []
        routes = host_routes() if self.url.startswith("unix://") else []  # a remote engine's routes are not ours
        for attempt in range(attempts):
            # Each refusal means others are allocating right now: choose among more of the free subnets next time.
            spread = SPREAD << min(attempt, 8)
            subnet = pool.choose([*parse_subnets(self.network_subnets()), *routes, *refused], spread)
            if subnet is None:
                raise PoolExhausted.worded(
                    "no free subnet is left for the app's network in the app network pool (%(pool)s, "
                    "%(capacity)s networks of /%(prefix)s): remove apps you no longer use, or give "
                    "CASAOS_APPS_SUBNET_POOL more room",
                    pool=str(pool),
                    capacity=pool.capacity,
                    prefix=pool.prefix,
                )
            try:
                return self.create_network(with_subnet(spec, subnet))
            except SubnetTaken:
                refused.append(subnet)
        raise EngineError.worded(
            "no subnet could be claimed for network %(name)s after %(count)s attempts", name=spec.name, count=attempts
        )

    @abc.abstractmethod
    def remove_network(self, name: str) -> None:
        """Remove a network by name or id."""

    @abc.abstractmethod
    def list_networks(self, labels: LabelFilter) -> list[NetworkInfo]:
        """Networks carrying all the given labels."""

    @abc.abstractmethod
    def create_volume(self, spec: VolumeSpec) -> str:
        """Create a named volume (an existing one with that name is reused); returns its name."""

    @abc.abstractmethod
    def remove_volume(self, name: str, *, force: bool = False) -> None:
        """Remove a volume (Conflict while in use)."""

    @abc.abstractmethod
    def list_volumes(self, labels: LabelFilter) -> list[VolumeInfo]:
        """Volumes carrying all the given labels."""
