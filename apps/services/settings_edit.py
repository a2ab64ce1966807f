"""Settings after install: env, ports, volumes, restart policy, CPU/memory limits, or the raw compose.

An edit becomes a new compose document (the stored one with the service's keys replaced), is validated like a
new install, and is applied as a locked operation that restores the previous configuration when the changed
containers do not come up healthy. Values are compose syntax: `$$` is a literal `$`, `${TZ}` a variable.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from casaos_site.i18n import deferred
from runtime import Engine
from runtime.compose import ComposeError, Project, load_yaml

from ..models import AppEvent, Installation
from .common import ComposeInvalid, InstallError
from .control import operation_queue
from .install import MAX_COMPOSE, app_project, compose_text
from .limits import resources_check
from .reconfigure import config_change, config_validate

RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_CPUS = re.compile(r"^\d+(\.\d+)?$")
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*[bkmgBKMG]?[bB]?$")


@dataclass
class ServiceEdit:
    """The editable settings of one service, as the form shows them (None: leave the key as it is)."""

    env: dict[str, str] | None = None
    ports: list[str] | None = None
    volumes: list[str] | None = None
    restart: str | None = None
    cpus: str | None = None  # "" removes the limit
    memory: str | None = None


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # a plain document people can read and edit, without &id001 anchors


def compose_dump(tree: dict) -> str:
    """A compose tree as YAML, keys in their order, no anchors."""
    return yaml.dump(tree, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False)


def app_settings_change(
    *,
    user,
    installation: Installation,
    edits: dict[str, ServiceEdit] | None = None,
    compose: str | None = None,
    consent: bool = False,
    override_limits: bool = False,
    consent_paths: Iterable[str] = (),
    request=None,
) -> AppEvent:
    """Validate new settings (form edits or a whole raw compose) and queue applying them; resource requests above
    the host that the app did not have before need an admin's `override_limits`."""
    inst = installation
    if compose is not None and edits:
        # One of them would be dropped without a word: say so instead.
        raise InstallError(
            deferred("Change either the settings fields or the compose document, not both at once."), code="both"
        )
    compose = compose_with_edits(inst.compose, edits or {}) if compose is None else compose_text(compose)
    if len(compose.encode()) > MAX_COMPOSE:
        raise InstallError(deferred("The compose document is too large (at most 256 KiB)."), code="compose")
    if _tree(compose) == load_yaml(inst.compose):  # the same document, whatever its spacing or line ends
        raise InstallError(deferred("Nothing changed."), code="unchanged")
    record, project = config_validate(
        inst=inst,
        compose=compose,
        user=user,
        operation="settings",
        consent=consent,
        consent_paths=consent_paths,
        request=request,
    )
    resources_check(
        project=project, user=user, override=override_limits, request=request, before=_running_project(inst)
    )
    return operation_queue(
        user=user,
        installation=inst,
        operation="settings",
        request=request,
        details={"compose": compose, "services": sorted(edits or {}), "consent": record},
    )


def _tree(compose: str) -> dict[str, Any]:
    """The new document parsed; a YAML error is the person's to fix, with where it is."""
    try:
        return load_yaml(compose)
    except ComposeError as exc:
        raise ComposeInvalid(exc) from exc


def _running_project(inst: Installation) -> Project | None:
    """The configuration the app runs with now (None when it no longer translates: nothing is grandfathered)."""
    try:
        return app_project(installation=inst)
    except ComposeError:
        return None


def run_settings(*, event: AppEvent, inst: Installation, eng: Engine) -> tuple[str, str, dict]:
    """Apply the queued compose; the previous one comes back when the changed containers fail."""
    outcome, message, details = config_change(
        inst=inst,
        eng=eng,
        compose=event.details["compose"],
        what="settings",
        event_id=event.pk,
        record=event.details.get("consent"),
    )
    return outcome, message or deferred("Settings applied."), {**details, "compose": ""}  # the history keeps no copy


# ---------------------------------------------------------------------------- the form <-> the compose tree
def service_settings(compose: str) -> dict[str, dict[str, Any]]:
    """Per service, the current values as the settings form shows them (raw compose values, not rendered)."""
    services = load_yaml(compose).get("services") or {}
    result = {}
    for name, svc in services.items():
        svc = svc or {}
        limits = ((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        result[name] = {
            "env": _env_mapping(svc.get("environment")),
            "ports": [_port_text(p) for p in svc.get("ports") or []],
            "volumes": [_volume_text(v) for v in svc.get("volumes") or []],
            "restart": str(svc.get("restart") or "no"),
            "cpus": str(limits.get("cpus") or svc.get("cpus") or ""),
            "memory": str(limits.get("memory") or svc.get("mem_limit") or ""),
        }
    return result


def compose_with_edits(compose: str, edits: dict[str, ServiceEdit]) -> str:
    """The compose document with each edited service's keys replaced; everything else stays as written."""
    tree = _tree(compose)
    services = tree.get("services") or {}
    for name, edit in edits.items():
        if name not in services:
            raise InstallError(deferred("There is no service %(name)s.", name=name), code="service")
        services[name] = _apply(services[name] or {}, edit)
    return compose_dump(tree)


def _apply(svc: dict[str, Any], edit: ServiceEdit) -> dict[str, Any]:
    for key, value in (("environment", edit.env), ("ports", edit.ports), ("volumes", edit.volumes)):
        if value is None:
            continue
        if value:
            svc[key] = value
        else:
            svc.pop(key, None)
    if edit.restart is not None:
        if edit.restart not in RESTART_POLICIES and not re.match(r"^on-failure:\d+$", edit.restart):
            raise InstallError(deferred("%(policy)s is not a restart policy.", policy=edit.restart), code="restart")
        svc["restart"] = edit.restart
    for key, value, pattern in (("cpus", edit.cpus, _CPUS), ("memory", edit.memory, _MEMORY)):
        if value is not None:
            _set_limit(svc, key, value.strip(), pattern)
    return svc


def _set_limit(svc: dict[str, Any], key: str, value: str, pattern: re.Pattern) -> None:
    """deploy.resources.limits.<key>; the service-level spelling (cpus, mem_limit) is dropped to avoid a clash."""
    svc.pop("cpus" if key == "cpus" else "mem_limit", None)
    limits = svc.setdefault("deploy", {}).setdefault("resources", {}).setdefault("limits", {})
    if not value:
        limits.pop(key, None)
        return
    if not pattern.match(value):
        raise InstallError(deferred("%(value)r is not a valid %(what)s limit.", value=value, what=key), code=key)
    limits[key] = value


def env_from_text(text: str) -> dict[str, str]:
    """KEY=value lines (blank lines and # comments skipped) into a mapping; a bad key names its line."""
    env = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _ENV_KEY.match(key):
            raise InstallError(deferred("Line %(n)s of the environment is not KEY=value.", n=number), code="env")
        env[key] = value
    return env


def lines_from_text(text: str) -> list[str]:
    """One entry per non-empty line (ports like 8080:80/tcp, volumes like /srv/data:/data:ro)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _env_mapping(env: Any) -> dict[str, str]:
    if isinstance(env, dict):
        return {str(k): "" if v is None else str(v) for k, v in env.items()}
    mapping = {}
    for item in env or []:
        key, _sep, value = str(item).partition("=")
        mapping[key] = value
    return mapping


def _port_text(port: Any) -> str:
    """The short syntax of a port entry (the long syntax is written short, which means the same)."""
    if not isinstance(port, dict):
        return str(port)
    text = str(port.get("target", ""))
    if port.get("published"):
        text = f"{port['published']}:{text}"
        if port.get("host_ip"):
            text = f"{port['host_ip']}:{text}"
    protocol = port.get("protocol")
    return f"{text}/{protocol}" if protocol and protocol != "tcp" else text


def _volume_text(volume: Any) -> str:
    if not isinstance(volume, dict):
        return str(volume)
    text = (
        f"{volume.get('source', '')}:{volume.get('target', '')}"
        if volume.get("source")
        else str(volume.get("target", ""))
    )
    return f"{text}:ro" if volume.get("read_only") else text
