"""The translated project: what the install pipeline creates and what a policy checker inspects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runtime.specs import ContainerSpec, NetworkSpec, VolumeSpec


@dataclass(frozen=True)
class Project:
    """A compose file normalised into engine specs; `containers` is in start (dependency) order."""

    name: str
    containers: tuple[ContainerSpec, ...]
    networks: tuple[NetworkSpec, ...] = ()
    volumes: tuple[VolumeSpec, ...] = ()
    extensions: dict[str, Any] = field(default_factory=dict)  # top-level x-* such as x-casaos
    missing_variables: tuple[str, ...] = ()  # referenced but unset: Compose warns and uses ""
    disabled_services: tuple[str, ...] = ()  # skipped because their profiles are not active

    @property
    def services(self) -> tuple[str, ...]:
        """Service names in start order."""
        return tuple(c.service for c in self.containers)

    @property
    def images(self) -> tuple[str, ...]:
        """Distinct image references, in start order (what must be pulled)."""
        return tuple(dict.fromkeys(c.image for c in self.containers))

    def container(self, service: str) -> ContainerSpec:
        """The spec of one service."""
        for spec in self.containers:
            if spec.service == service:
                return spec
        raise KeyError(service)
