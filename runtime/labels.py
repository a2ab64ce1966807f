"""Label keys and names shared with Docker Compose, so `docker compose ls` sees our apps as projects."""

from __future__ import annotations

import re

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
CONTAINER_NUMBER = "com.docker.compose.container-number"
ONEOFF = "com.docker.compose.oneoff"
CONFIG_HASH = "com.docker.compose.config-hash"
NETWORK = "com.docker.compose.network"
VOLUME = "com.docker.compose.volume"
WORKING_DIR = "com.docker.compose.project.working_dir"
CONFIG_FILES = "com.docker.compose.project.config_files"
DEPENDS_ON = "com.docker.compose.depends_on"
IMAGE = "com.docker.compose.image"

APP = "io.casaos.app"
APP_SERVICE = "io.casaos.service"
MANAGED = "io.casaos.managed"

_PROJECT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_SERVICE_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


def is_valid_project_name(name: str) -> bool:
    """Compose's own rule: lowercase letters, digits, '-' and '_', starting with a letter or digit."""
    return bool(_PROJECT_RE.match(name))


def is_valid_service_name(name: str) -> bool:
    """Service names end up in container and DNS names, so keep them to a safe alphabet."""
    return bool(_SERVICE_RE.match(name))


def normalize_project_name(name: str) -> str:
    """Compose's normalisation: lowercase, drop other characters, strip leading '-'/'_' ('my.app' -> 'myapp')."""
    return re.sub(r"[^a-z0-9_-]", "", name.lower()).lstrip("-_")


def container_name(project: str, service: str, number: int = 1) -> str:
    """Compose v2 naming: <project>-<service>-<n>."""
    return f"{project}-{service}-{number}"


ASIDE = "-casaos-old"  # an old container set aside while its replacement starts under its name


def aside_name(name: str) -> str:
    """The name an old container carries while its replacement starts: <name>-casaos-old."""
    return f"{name}{ASIDE}"


def is_aside(name: str) -> bool:
    """True for an old container set aside by a change that is not finished yet."""
    return name.endswith(ASIDE)


def network_name(project: str, key: str) -> str:
    """Compose naming for project networks: <project>_<key> (e.g. myapp_default)."""
    return f"{project}_{key}"


def volume_name(project: str, key: str) -> str:
    """Compose naming for project volumes: <project>_<key>."""
    return f"{project}_{key}"


def project_labels(project: str) -> dict[str, str]:
    """Labels every object of an app carries; filter on APP to find all of it."""
    return {PROJECT: project, APP: project, MANAGED: "true"}


def container_labels(project: str, service: str, *, number: int = 1, oneoff: bool = False) -> dict[str, str]:
    """Labels of a service container, without the config hash (added once the spec is final)."""
    return {
        **project_labels(project),
        SERVICE: service,
        CONTAINER_NUMBER: str(number),
        ONEOFF: "True" if oneoff else "False",
        APP_SERVICE: service,
    }


def network_labels(project: str, key: str) -> dict[str, str]:
    """Labels of a project network."""
    return {**project_labels(project), NETWORK: key}


def volume_labels(project: str, key: str) -> dict[str, str]:
    """Labels of a project volume."""
    return {**project_labels(project), VOLUME: key}
