"""Container engine access for the install pipeline: plain Python, no Django (a test checks it)."""

from __future__ import annotations

from runtime.base import (
    ContainerInfo,
    ContainerStats,
    Engine,
    EngineEvent,
    ExecSession,
    HostResources,
    NetworkInfo,
    PortBinding,
    PullProgress,
    VersionInfo,
    VolumeInfo,
)
from runtime.errors import (
    ComposeError,
    Conflict,
    EngineError,
    EngineRace,
    EngineUnavailable,
    ImageNotFound,
    InvalidSpec,
    NotFound,
    PoolExhausted,
    PortInUse,
    SubnetTaken,
)
from runtime.progress import AppProgress, ImageProgress, PullAggregator

__all__ = [
    "AppProgress",
    "ComposeError",
    "Conflict",
    "ContainerInfo",
    "ContainerStats",
    "Engine",
    "EngineError",
    "EngineEvent",
    "EngineRace",
    "EngineUnavailable",
    "ExecSession",
    "HostResources",
    "ImageNotFound",
    "ImageProgress",
    "InvalidSpec",
    "NetworkInfo",
    "NotFound",
    "PoolExhausted",
    "PortBinding",
    "PortInUse",
    "PullAggregator",
    "PullProgress",
    "SubnetTaken",
    "VersionInfo",
    "VolumeInfo",
    "get_engine",
]

DEFAULT_URL = "unix:///var/run/docker.sock"
PODMAN_URL = "unix:///run/podman/podman.sock"


def get_engine(url: str = DEFAULT_URL, *, pids_limit: int | None = None) -> Engine:
    """An engine for a Docker-API socket (Docker or Podman); connects lazily, so this never blocks.

    `pids_limit`: the process limit of containers whose compose sets none (None: runtime.payload's default)."""
    if not url.startswith(("unix://", "tcp://", "http://", "https://", "ssh://")):
        raise EngineError(f"unsupported engine URL {url!r}", permanent=True)
    from runtime.docker import DockerEngine  # docker-py is imported only when an engine is really wanted

    if pids_limit is None:
        return DockerEngine(url)
    return DockerEngine(url, pids_limit=pids_limit)
