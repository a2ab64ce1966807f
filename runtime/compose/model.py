"""The translated project: what the install pipeline creates and what a policy checker inspects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runtime.specs import ContainerSpec, NetworkSpec, VolumeSpec


@dataclass(frozen=True)
class RequiredVariable:
    """A ${NAME:?message} (or ${NAME?message}) the file cannot do without: an install form asks for it."""

    name: str
    message: str = ""
    allow_empty: bool = False  # ${NAME?...}: set is enough, even to ""


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
    required_variables: tuple[RequiredVariable, ...] = ()  # unset ${V:?msg}, when the caller collected them

    @property
    def services(self) -> tuple[str, ...]:
        """Service names in start order."""
        return tuple(c.service for c in self.containers)

    @property
    def images(self) -> tuple[str, ...]:
        """Distinct image references, in start order (what must be pulled)."""
        return tuple(dict.fromkeys(c.image for c in self.containers))

    def pull_policy(self, image: str) -> str:
        """When to pull one image: always if a service using it says so, never only if every one of them does."""
        policies = {c.pull_policy for c in self.containers if c.image == image}
        if "always" in policies:
            return "always"
        return "never" if policies == {"never"} else "missing"

    def container(self, service: str) -> ContainerSpec:
        """The spec of one service."""
        for spec in self.containers:
            if spec.service == service:
                return spec
        raise KeyError(service)
