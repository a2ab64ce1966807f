"""Container engine access for the install pipeline: plain Python, no Django (a test checks it)."""

from __future__ import annotations

from runtime.base import (
    ContainerInfo,
    ContainerStats,
    Engine,
    EngineEvent,
    ExecSession,
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


def get_engine(url: str = DEFAULT_URL) -> Engine:
    """An engine for a Docker-API socket (Docker or Podman); connects lazily, so this never blocks."""
    if not url.startswith(("unix://", "tcp://", "http://", "https://", "ssh://")):
        raise EngineError(f"unsupported engine URL {url!r}", permanent=True)
    from runtime.docker import DockerEngine  # docker-py is imported only when an engine is really wanted

    return DockerEngine(url)
