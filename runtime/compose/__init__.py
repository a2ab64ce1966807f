"""Compose files in, engine specs out: parse (YAML), interpolate (given variables only), translate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from runtime.compose.fields import as_str
from runtime.compose.interpolate import MissingVariable, interpolate, interpolate_tree
from runtime.compose.limits import check_images, check_service_count
from runtime.compose.model import Project, RequiredVariable
from runtime.compose.parse import load_yaml
from runtime.compose.risk import ServiceExposure, exposure
from runtime.compose.translate import start_order, translate
from runtime.errors import ComposeError

__all__ = [
    "ComposeError",
    "MissingVariable",
    "Project",
    "RequiredVariable",
    "ServiceExposure",
    "exposure",
    "interpolate",
    "load_project",
    "load_yaml",
    "required_variables",
    "start_order",
]


def load_project(
    text: str | bytes,
    *,
    variables: Mapping[str, str],
    project_name: str | None = None,
    profiles: Iterable[str] = (),
    project_dir: str = "",
    collect_required: bool = False,
) -> Project:
    """Parse, interpolate with `variables` only (never os.environ) and translate a compose file.

    `project_name` overrides the file's `name:`; one of them must be a valid Compose project name. At most
    MAX_SERVICES services, and image references that follow the reference grammar (runtime.compose.limits). An unset
    ${V:?message} raises MissingVariable, unless `collect_required`: then it reads as "" and is listed in
    `required_variables` (a store template is still offered, and its install form asks for the value).
    """
    raw = load_yaml(text)
    check_service_count(raw)  # before any work per service: 5,000 of them are refused at once
    missing: set[str] = set()
    required: dict[str, RequiredVariable] | None = {} if collect_required else None
    tree = interpolate_tree(raw, variables, missing=missing, required=required)
    name = project_name or as_str(tree.get("name") or "", "name")
    if not name:
        raise ComposeError("a project name is required (pass project_name or set `name:`)", "name")
    project = translate(tree, project_name=name, variables=variables, profiles=profiles, project_dir=project_dir)
    check_images(project, waiting=_images_waiting(raw) if required else ())
    return replace(
        project, missing_variables=tuple(sorted(missing)), required_variables=tuple((required or {}).values())
    )


def required_variables(text: str | bytes, variables: Mapping[str, str]) -> tuple[RequiredVariable, ...]:
    """The ${V:?message} variables of a compose file that `variables` leaves unset, in file order."""
    required: dict[str, RequiredVariable] = {}
    interpolate_tree(load_yaml(text), variables, required=required)
    return tuple(required.values())


def _images_waiting(raw: dict) -> set[str]:
    """Services whose image is written with a variable: while required values are still unasked (a store template),
    such an image is checked at install, once it has them."""
    services = raw.get("services") or {}
    return {name for name, svc in services.items() if isinstance(svc, dict) and "$" in str(svc.get("image", ""))}
