"""From a catalogue template to an install request: the editable fields, port checks, the rendered compose,
and the adapter to the installer of the apps issue (apps.services.app_install)."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from files.paths import files_root
from runtime.compose import ComposeError, RequiredVariable, interpolate, load_yaml, required_variables

from .models import CatalogApp
from .parsing import pick, project_name
from .parsing.template import template_variables

CASAOS_DATA = "/DATA/AppData/"
CASAOS_FILES = "/DATA/"
_APPID = re.compile(r"\$\{?AppID\}?")
VAR = "var__"  # form keys of the variables a template requires: var__<NAME>


@dataclass
class InstallField:
    """One editable value of a template: an env var, a published port or a bind source."""

    key: str  # form field name: env__<svc>__<KEY>, port__<svc>__<i>, vol__<svc>__<i>, var__<NAME>
    kind: str  # env | port | volume | variable
    service: str
    label: str  # what x-casaos says about it (or the raw name)
    initial: str
    container: str  # the variable name, container port or container path
    protocol: str = "tcp"
    extra: dict[str, Any] = field(default_factory=dict)
    required: bool = False  # a ${NAME:?message} the template cannot do without
    help: str = ""  # what the template says about it (its ${NAME:?message})


def data_root() -> str:
    return str(getattr(settings, "APPS_DATA_ROOT", settings.APPSTORE_APPS_DATA_ROOT))


def _target(kind: str, container: Any) -> str:
    """What x-casaos names an entry by: a port without its protocol ("8080/tcp"), a path without a trailing "/"."""
    text = str(container).strip()
    return text.split("/")[0] if kind == "ports" else text.rstrip("/")


def _describe(app: CatalogApp, service: str, kind: str, container: str, language: str) -> str:
    for item in (app.services.get(service) or {}).get(kind, []):
        if _target(kind, item.get("container", "")) == _target(kind, container):
            return pick(item.get("description"), language)
    return ""


def _resolved(value: Any, app_id: str) -> str:
    try:
        return interpolate(str(value), template_variables(app_id, tz=settings.TIME_ZONE))
    except ComposeError:
        return str(value)


def _data_path(source: str, app_id: str) -> str:
    """CasaOS's folders on this machine: /DATA/AppData/$AppID/... becomes <apps data root>/<app id>/... (a folder the
    template names there otherwise, /DATA/AppData/mongo/db, goes inside the app's own folder too, never into another
    app's); the rest of /DATA (Media, Downloads...) is the files root, as CasaOS's /DATA is its files."""
    source = _APPID.sub(app_id, source)
    if source.startswith(CASAOS_DATA):
        rest = source.removeprefix(CASAOS_DATA)
        own = rest if rest.split("/")[0] == app_id else f"{app_id}/{rest}"
        return data_root().rstrip("/") + "/" + own
    if source.startswith(CASAOS_FILES) or source == CASAOS_FILES.rstrip("/"):
        return str(Path(files_root(), source.removeprefix(CASAOS_FILES.rstrip("/")).lstrip("/")))
    return source


def data_on_disk(value: str, *, app_id: str, disk: str) -> str:
    """A folder inside the app's own folder moved to the same place on a disk we mounted (<disk>/AppData/<app>/...);
    any other folder stays as typed."""
    own = data_root().rstrip("/") + "/" + app_id
    if value != own and not value.startswith(own + "/"):
        return value
    return f"{disk.rstrip('/')}/AppData/{app_id}{value.removeprefix(own)}"


def _env_items(env: Any) -> list[tuple[str, Any]]:
    if isinstance(env, dict):
        return [(str(k), v) for k, v in env.items()]
    items = []
    for entry in env or []:
        key, sep, value = str(entry).partition("=")
        items.append((key, value if sep else None))
    return items


def _port_entries(ports: Any) -> list[tuple[int, str, str, str]]:
    """(index, published, container, protocol) of entries with one fixed host port (ranges stay as written)."""
    entries = []
    for i, port in enumerate(ports or []):
        if isinstance(port, dict):
            published, target, proto = (
                str(port.get("published") or ""),
                str(port.get("target") or ""),
                str(port.get("protocol") or "tcp"),
            )
        else:
            spec, _s, proto = str(port).partition("/")
            parts = _split_colons(spec)
            published, target = (parts[-2], parts[-1]) if len(parts) >= 2 else ("", parts[0])
        if published.isdigit():
            entries.append((i, published, target, (proto or "tcp").lower()))
    return entries


def _bind_entries(volumes: Any) -> list[tuple[int, str, str]]:
    """(index, host source, container path) of bind mounts written with a host path."""
    entries = []
    for i, vol in enumerate(volumes or []):
        if isinstance(vol, dict):
            source, target = str(vol.get("source") or ""), str(vol.get("target") or "")
            if vol.get("type", "volume") != "bind":
                continue
        else:
            source, target, *_options = [*_split_colons(str(vol)), ""]
        if source.startswith(("/", "$", "./", "~")) and target:
            entries.append((i, source, target))
    return entries


def _split_colons(text: str) -> list[str]:
    """Split short syntax ("src:dst:ro", "8080:80") on colons outside ${...}: ${DATA:-/srv}:/data is two parts."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if text.startswith("${", i):
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif char == ":" and not depth:
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


def install_fields(app: CatalogApp, *, name: str, language: str = "en") -> list[InstallField]:
    """Every value a person may change before installing, labelled from x-casaos, prefilled for this machine.

    Variables the template requires (${NAME:?message}) come first; a value that uses one is set through it.
    """
    tree = load_yaml(app.compose)
    required = _required(app, name)
    fields = [_variable_field(app, var, language) for var in required]
    for svc_name, svc in (tree.get("services") or {}).items():
        svc = svc or {}
        for key, value in _env_items(svc.get("environment")):
            if _uses(value, required):
                continue
            label = _describe(app, svc_name, "envs", key, language)
            fields.append(
                InstallField(f"env__{svc_name}__{key}", "env", svc_name, label, _resolved(value or "", name), key)
            )
        for i, published, target, proto in _port_entries(svc.get("ports")):
            label = _describe(app, svc_name, "ports", target, language)
            fields.append(InstallField(f"port__{svc_name}__{i}", "port", svc_name, label, published, target, proto))
        for i, source, target in _bind_entries(svc.get("volumes")):
            if _uses(source, required):
                continue
            label = _describe(app, svc_name, "volumes", target, language)
            fields.append(
                InstallField(
                    f"vol__{svc_name}__{i}",
                    "volume",
                    svc_name,
                    label,
                    _data_path(_resolved(source, name), name),
                    target,
                )
            )
    return fields


def _required(app: CatalogApp, name: str) -> tuple[RequiredVariable, ...]:
    """The template's ${NAME:?message} variables that we do not provide ourselves (AppID, TZ, PUID, PGID)."""
    try:
        return required_variables(app.compose, template_variables(name, tz=settings.TIME_ZONE))
    except ComposeError:
        return ()  # the sync read it; an unreadable template has no form at all


def _variable_field(app: CatalogApp, var: RequiredVariable, language: str) -> InstallField:
    """A required variable: labelled like the env entry of the same name when x-casaos describes one."""
    labels = (_describe(app, service, "envs", var.name, language) for service in app.services)
    label = next(filter(None, labels), "")
    return InstallField(
        f"{VAR}{var.name}", "variable", "", label, "", var.name, required=not var.allow_empty, help=var.message
    )


def _uses(value: Any, required: tuple[RequiredVariable, ...]) -> bool:
    """True when a raw value refers to one of the required variables (the variable's field sets it)."""
    if not required or value is None:
        return False
    found: dict[str, RequiredVariable] = {}
    try:
        interpolate(str(value), {}, required=found)
    except ComposeError:
        return False
    return any(var.name in found for var in required)


def install_inputs(values: dict[str, str]) -> dict[str, str]:
    """The variables the person set in the form ({"PASSWORD": "..."}), for the installer's `inputs`."""
    return {key.removeprefix(VAR): value for key, value in values.items() if key.startswith(VAR)}


def _escape(value: str) -> str:
    """What a person types is literal: `$` must not start a variable."""
    return str(value).replace("$", "$$")


def render_compose(app: CatalogApp, values: dict[str, str]) -> str:
    """The template with the person's values written in (env, host ports, bind sources)."""
    tree = load_yaml(app.compose)
    for svc_name, svc in (tree.get("services") or {}).items():
        svc = svc or {}
        env = svc.get("environment")
        if isinstance(env, dict):
            for key in list(env):
                if (v := values.get(f"env__{svc_name}__{key}")) is not None:
                    env[key] = _escape(v)
        elif isinstance(env, list):
            svc["environment"] = [
                f"{k}={_escape(values[f'env__{svc_name}__{k}'])}"
                if f"env__{svc_name}__{k}" in values
                else (f"{k}={v}" if v is not None else k)
                for k, v in _env_items(env)
            ]
        for i, published, _t, _p in _port_entries(svc.get("ports")):
            new = values.get(f"port__{svc_name}__{i}")
            if new and new != published:
                port = svc["ports"][i]
                if isinstance(port, dict):
                    port["published"] = str(new)
                else:
                    head, _s, proto = str(port).partition("/")
                    parts = _split_colons(head)
                    parts[-2] = str(new)
                    svc["ports"][i] = ":".join(parts) + (f"/{proto}" if proto else "")
        for i, _source, target in _bind_entries(svc.get("volumes")):
            if (new := values.get(f"vol__{svc_name}__{i}")) is not None:
                vol = svc["volumes"][i]
                if isinstance(vol, dict):
                    vol["source"] = _escape(new)
                else:
                    rest = ":".join(_split_colons(str(vol))[1:])
                    svc["volumes"][i] = f"{_escape(new)}:{rest}"
    return yaml.safe_dump(tree, sort_keys=False, allow_unicode=True)


# ---------------------------------------------------------------------------- ports
def port_is_free(port: int, protocol: str = "tcp") -> bool:
    """The kernel's answer: can we bind it ourselves right now?"""
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as sock:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def claimed_ports() -> dict[str, str]:
    """Host ports ("tcp/8080") other apps hold, mapped to the app."""
    from apps.selectors import app_claimed_ports

    return app_claimed_ports()


def port_problem(port: int, protocol: str, claimed: dict[str, str]) -> str:
    """Why a host port cannot be used, or ""."""
    if f"{protocol}/{port}" in claimed:
        return _("used by the app %(app)s") % {"app": claimed[f"{protocol}/{port}"]}
    if not port_is_free(port, protocol):
        return _("in use on this machine")
    return ""


def suggest_port(port: int, protocol: str, claimed: dict[str, str], taken: set[int] = frozenset()) -> int | None:
    """The next free port above `port` (skipping the privileged range)."""
    for candidate in range(max(port + 1, 1024), 65536):
        if candidate not in taken and not port_problem(candidate, protocol, claimed):
            return candidate
    return None


# ---------------------------------------------------------------------------- the installer
def form_port_errors(form) -> None:
    """Each host port of a valid install form must be free here and unclaimed by other apps; suggest a free one."""
    claimed, taken = claimed_ports(), set()
    for f in form.install_fields:
        if f.kind != "port" or f.key not in form.cleaned_data:
            continue
        port = form.cleaned_data[f.key]
        problem = port_problem(port, f.protocol, claimed) if port not in taken else _("used twice in this form")
        if problem:
            free = suggest_port(port, f.protocol, claimed, taken)
            form.add_error(
                f.key,
                _("Port %(port)s is %(problem)s; %(free)s is free.") % {"port": port, "problem": problem, "free": free},
            )
        taken.add(port)


def values_for_name(app: CatalogApp, values: dict[str, str], name: str) -> dict[str, str]:
    """Folders left at the default of the template's own name follow the name chosen: they are meant as this app's
    own folder, not as the folder of an app of the default name (which would be another app's data)."""
    default = project_name(app.store_app_id)
    if not name or name == default:
        return values
    before = {f.key: f.initial for f in install_fields(app, name=default) if f.kind == "volume"}
    after = {f.key: f.initial for f in install_fields(app, name=name) if f.kind == "volume"}
    return {key: after[key] if key in before and value == before[key] else value for key, value in values.items()}


def store_risk(app: CatalogApp, *, user=None, values: dict[str, str] | None = None, name: str = ""):
    """The risk report of installing `app` with these form values (the defaults for this machine when None), as
    `user` would (None: an admin): the same payloads, the same policy the installer enforces."""
    from .risk import risk_of_compose

    name = name or project_name(app.store_app_id)
    if values is None:
        values = {f.key: f.initial for f in install_fields(app, name=name) if f.kind != "variable"}
    values = values_for_name(app, values, name)
    return risk_of_compose(render_compose(app, values), app_id=name, variables=install_inputs(values), user=user)


def store_install(
    *,
    user,
    app: CatalogApp,
    name: str,
    values: dict[str, str],
    consent: bool,
    consent_paths=(),
    placement: dict | None = None,
    request=None,
):
    """Render the template with the person's values, hand it to the installer (apps.services.app_install: the
    container policy, consent and step-up are checked there) and remember which template it came from (the "update
    available" mark compares against it).

    Raises the installer's InstallError (a ValidationError) with a message a person can act on.
    """
    from apps.services import app_install

    from .updates import installed_template_record

    values = values_for_name(app, values, name)
    compose, inputs = render_compose(app, values), install_inputs(values)
    with transaction.atomic():  # the record commits with the installation, before its task starts
        inst = app_install(
            user=user,
            compose=compose,
            name=name or project_name(app.store_app_id),
            inputs=inputs,
            source="store",
            store_app=app,
            consent=consent,
            consent_paths=consent_paths,
            placement=placement,
            request=request,
        )
        installed_template_record(installation=inst, app=app)
    return inst
