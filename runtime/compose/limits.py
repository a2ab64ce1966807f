"""Bounds on what one app may ask for: how many services, valid image references, and resource requests that fit
the host the engine runs on (SECURITY.md lesson 12: say what is allowed, refuse the rest before anything exists)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from runtime.base import HostResources
from runtime.compose.model import Project
from runtime.errors import ComposeError
from runtime.images import image_reference_problem, shown
from runtime.specs import ContainerSpec

MAX_SERVICES = 64  # the largest real store apps have about ten; 5,000 services would make 5,000 containers
PIDS_MAX = 32_768  # processes one container may ask for without an override (a fork bomb stays contained)
SHM_SHARE = 2  # /dev/shm is memory: at most half of it

# Where each resource request can be written in a compose service (Compose's legacy keys and deploy.resources).
SPELLINGS: dict[str, tuple[tuple[str, ...], ...]] = {
    "mem_limit": (("mem_limit",), ("deploy", "resources", "limits", "memory")),
    "mem_reservation": (("mem_reservation",), ("deploy", "resources", "reservations", "memory")),
    "memswap_limit": (("memswap_limit",),),
    "shm_size": (("shm_size",),),
    "cpus": (("cpus",), ("deploy", "resources", "limits", "cpus")),
    "pids_limit": (("pids_limit",), ("deploy", "resources", "limits", "pids")),
}


@dataclass(frozen=True)
class ResourceProblem:
    """One request above what the host has: which service and key, what it asked, and the most it may have."""

    service: str
    key: str
    asked: float
    cap: float
    message: str

    @property
    def path(self) -> str:
        return f"services.{self.service}.{self.key}"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def check_service_count(tree: dict[str, Any]) -> None:
    """At most MAX_SERVICES services in one app, counted before any of them is translated."""
    services = tree.get("services")
    if isinstance(services, dict) and len(services) > MAX_SERVICES:
        raise ComposeError(
            f"an app may have at most {MAX_SERVICES} services; this one has {len(services):,}", "services"
        )


def check_images(project: Project, *, waiting: Collection[str] = ()) -> None:
    """Every image reference follows the reference grammar (no spaces, options, newlines or capitals); services in
    `waiting` are left for later (their image needs a value not given yet)."""
    for spec in project.containers:
        problem = "" if spec.service in waiting else image_reference_problem(spec.image)
        if problem:
            raise ComposeError(
                f"{shown(spec.image)} is not a valid image reference: {problem}", f"services.{spec.service}.image"
            )


def resource_problems(project: Project, host: HostResources) -> list[ResourceProblem]:
    """Requests no container of this host can be given: memory or CPUs above what it has, unlimited processes."""
    return [problem for spec in project.containers for problem in _service_problems(spec, host)]


def _service_problems(spec: ContainerSpec, host: HostResources) -> list[ResourceProblem]:
    caps = {
        "mem_limit": (host.memory, "more than this machine's memory"),
        "mem_reservation": (host.memory, "more than this machine's memory"),
        "memswap_limit": (host.memory + host.swap, "more than this machine's memory and swap together"),
        "shm_size": (host.memory // SHM_SHARE, "more than half of this machine's memory"),
    }
    found = []
    for key, (cap, what) in caps.items():
        asked = getattr(spec, key)
        if asked is not None and asked > cap and not (key == "memswap_limit" and asked == -1):
            message = f"{size_text(asked)} is {what} ({size_text(cap)})"
            found.append(ResourceProblem(spec.service, key, asked, cap, message))
    if spec.cpus is not None and spec.cpus > host.cpus:
        message = f"{spec.cpus:g} CPUs is more than this machine has ({host.cpus})"
        found.append(ResourceProblem(spec.service, "cpus", spec.cpus, host.cpus, message))
    if spec.pids_limit is not None and not 0 < spec.pids_limit <= PIDS_MAX:
        message = f"{spec.pids_limit} is not a process limit from 1 to {PIDS_MAX:,} (-1 and 0 mean unlimited)"
        found.append(ResourceProblem(spec.service, "pids_limit", spec.pids_limit, PIDS_MAX, message))
    return found


def clamp_tree(tree: dict[str, Any], problems: list[ResourceProblem]) -> dict[str, Any]:
    """The compose tree with each request above the host lowered to the most it may have, in every spelling the
    service uses (a store app written for a larger machine then runs here as it would, within what exists)."""
    services = tree.get("services") or {}
    for problem in problems:
        svc = services.get(problem.service) or {}
        value = int(problem.cap) if problem.key != "cpus" else problem.cap
        for spelling in SPELLINGS[problem.key]:
            _set_if_present(svc, spelling, value)
    return tree


def _set_if_present(mapping: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    for key in keys[:-1]:
        mapping = mapping.get(key) if isinstance(mapping, dict) else None
        if not isinstance(mapping, dict):
            return
    if keys[-1] in mapping:
        mapping[keys[-1]] = value


def size_text(size: float) -> str:
    """Bytes in binary units, as people read them (1 TiB, 23.5 GiB)."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    power = 0
    while abs(size) >= 1024 ** (power + 1) and power < len(units) - 1:
        power += 1
    return f"{size / 1024**power:.3g} {units[power]}" if power else f"{int(size)} B"
