"""The risk-relevant facts of a translated project, in one flat view for a policy checker."""

from __future__ import annotations

from dataclasses import dataclass

from runtime.compose.model import Project
from runtime.specs import ContainerSpec, DeviceRequest, DeviceSpec, MountSpec, PortSpec


@dataclass(frozen=True)
class ServiceExposure:
    """What one container would be allowed to touch on the host, whatever syntax asked for it."""

    service: str
    container_name: str
    image: str
    privileged: bool
    network_mode: str  # "" means project networks; "host" shares the host's network stack
    pid: str
    ipc: str
    userns_mode: str
    cgroup: str  # "host" shares the host's cgroup namespace
    binds: tuple[MountSpec, ...]  # every host path, incl. long-syntax binds and driver_opts bind volumes
    devices: tuple[DeviceSpec, ...]
    device_requests: tuple[DeviceRequest, ...]
    cap_add: tuple[str, ...]
    security_opt: tuple[str, ...]
    sysctls: dict[str, str]
    runtime: str
    published_ports: tuple[PortSpec, ...]
    user: str

    @property
    def bind_sources(self) -> tuple[str, ...]:
        """Host paths only (normalised, absolute)."""
        return tuple(m.source for m in self.binds)

    @property
    def mounts_docker_socket(self) -> bool:
        """docker.sock (or podman.sock) inside a container is root on the host."""
        return any(s.endswith(("docker.sock", "podman.sock")) or s in ("/run", "/var/run") for s in self.bind_sources)


def service_exposure(spec: ContainerSpec) -> ServiceExposure:
    """Risk view of one container spec."""
    return ServiceExposure(
        service=spec.service,
        container_name=spec.name,
        image=spec.image,
        privileged=spec.privileged,
        network_mode=spec.network_mode,
        pid=spec.pid,
        ipc=spec.ipc,
        userns_mode=spec.userns_mode,
        cgroup=spec.cgroup,
        binds=tuple(m for m in spec.mounts if m.type == "bind"),
        devices=spec.devices,
        device_requests=spec.device_requests,
        cap_add=spec.cap_add,
        security_opt=spec.security_opt,
        sysctls=spec.sysctls,
        runtime=spec.runtime,
        published_ports=tuple(p for p in spec.ports if p.published),
        user=spec.user,
    )


def exposure(project: Project) -> tuple[ServiceExposure, ...]:
    """Risk view of every container of a project (volume driver_opts stay visible on project.volumes)."""
    return tuple(service_exposure(c) for c in project.containers)
