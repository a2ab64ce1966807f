"""One app's compose file (plus a v2 meta.json) read into an AppTemplate, tolerant of what real stores contain.

Real stores misplace keys, omit `main` or `port_map`, write `release_notes` as a string and locale keys in any
case. Everything here degrades to a sensible default; only what makes the app uninstallable raises BrokenApp.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runtime.compose import ComposeError, load_project, load_yaml, required_variables
from runtime.compose.limits import check_service_count
from runtime.compose.model import Project

from .locale import DEFAULT_LOCALE, localised, looks_localised, normalise_locale

# What CasaOS sets when it installs an app; templates rely on them.
PUID = "1000"
PGID = "1000"

_ARCH_ALIASES = {
    "x86_64": "amd64",
    "x86-64": "amd64",
    "x64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64v8": "arm64",
    "arm64": "arm64",
    "armv8": "arm64",
    "arm/v8": "arm64",
    "arm": "arm",
    "armhf": "arm",
    "armel": "arm",
    "arm32": "arm",
    "arm32v6": "arm",
    "arm32v7": "arm",
    "armv6": "arm",
    "armv6l": "arm",
    "armv7": "arm",
    "armv7l": "arm",
    "arm/v6": "arm",
    "arm/v7": "arm",
    "386": "386",
    "i386": "386",
    "i686": "386",
    "x86": "386",
    "riscv64": "riscv64",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
}
_CASAOS_TEAM = "casaos team"
_PROJECT_NAME_BAD = re.compile(r"[^a-z0-9_-]+")
_LINKS = ("website", "repo", "support", "docs")


class BrokenApp(Exception):
    """An app that cannot be offered; the reason is shown on the store's page."""


@dataclass
class AppTemplate:
    """Everything the catalogue keeps about one app."""

    store_app_id: str
    package_id: str
    folder: str
    compose: str
    content_hash: str
    title: dict[str, str]
    tagline: dict[str, str] = field(default_factory=dict)
    description: dict[str, str] = field(default_factory=dict)
    release_notes: dict[str, str] = field(default_factory=dict)
    tips: dict[str, dict[str, str]] = field(default_factory=dict)
    category: str = ""
    author: str = ""
    developer: str = ""
    author_type: str = "community"
    icon: str = ""
    thumbnail: str = ""
    screenshots: list[str] = field(default_factory=list)
    architectures: list[str] = field(default_factory=list)
    version: str = ""
    update_at: str = ""
    links: dict[str, str] = field(default_factory=dict)
    main: str = ""
    port_map: str = ""
    index: str = "/"
    scheme: str = "http"
    services: dict[str, dict[str, list]] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    project: Project | None = None
    unchecked: str = ""  # why `project` is None: the risk report cannot be made before the install form


def _text(value: Any) -> str:
    if value is None or isinstance(value, Mapping | list):
        return ""
    return str(value).strip()


def normalise_architectures(values: Any) -> list[str]:
    """Aliases (armhf, aarch64, x86_64...) to the engine's names, order kept, duplicates dropped."""
    items = values if isinstance(values, list) else [values] if isinstance(values, str) else []
    found: dict[str, None] = {}
    for item in items:
        key = _text(item).lower().removeprefix("linux/")
        if key:
            found.setdefault(_ARCH_ALIASES.get(key, key), None)
    return list(found)


def author_type(author: str, developer: str) -> str:
    """As CasaOS derives it: author == developer is official, the CasaOS team is by_casaos, else community."""
    if author and author.lower() == developer.lower():
        return "official"
    if author.lower() == _CASAOS_TEAM:
        return "by_casaos"
    return "community"


def project_name(store_app_id: str) -> str:
    """A valid Compose project name for an app id (dots and capitals are common in stores, not allowed there)."""
    name = _PROJECT_NAME_BAD.sub("-", store_app_id.lower()).strip("-_")
    return name or "app"


def template_variables(app_id: str, *, tz: str = "UTC") -> dict[str, str]:
    """The variables CasaOS provides to every template."""
    return {"AppID": app_id, "TZ": tz, "PUID": PUID, "PGID": PGID}


def _tips(value: Any) -> dict[str, dict[str, str]]:
    """`tips: {before_install: {en_US: ...}}`, or a localised text, or a plain string."""
    if isinstance(value, str) or looks_localised(value):
        texts = localised(value)
        return {"before_install": texts} if texts else {}
    if not isinstance(value, Mapping):
        return {}
    tips = {}
    for section, texts in value.items():
        texts = localised(texts)
        if texts:
            tips[str(section)] = texts
    return tips


def _descriptions(items: Any) -> list[dict[str, Any]]:
    """Service-level x-casaos envs/ports/volumes: [{container, description: {locale: text}}]."""
    result = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and item.get("container") is not None:
            result.append(
                {"container": _text(item.get("container")), "description": localised(item.get("description"))}
            )
    return result


def _services_info(services: Mapping[str, Any], top: Mapping[str, Any], main: str) -> dict[str, dict[str, list]]:
    info: dict[str, dict[str, list]] = {}
    for name, svc in services.items():
        block = svc.get("x-casaos") if isinstance(svc, Mapping) else None
        block = block if isinstance(block, Mapping) else {}
        info[str(name)] = {kind: _descriptions(block.get(kind)) for kind in ("envs", "ports", "volumes")}
    # A misplaced top-level envs/ports/volumes list describes the main service.
    if main in info:
        for kind in ("envs", "ports", "volumes"):
            if not info[main][kind] and top.get(kind):
                info[main][kind] = _descriptions(top.get(kind))
    return info


def _main_service(declared: str, services: Mapping[str, Any]) -> str:
    """`main` when it names a service; else the first service publishing a port; else the first service."""
    if declared in services:
        return declared
    for name, svc in services.items():
        if isinstance(svc, Mapping) and svc.get("ports"):
            return str(name)
    return str(next(iter(services)))


def _first_published_port(svc: Any) -> str:
    for port in (svc.get("ports") or []) if isinstance(svc, Mapping) else []:
        if isinstance(port, Mapping) and port.get("published") not in (None, ""):
            return _text(port["published"]).split("-")[0]
        if isinstance(port, str | int):
            parts = str(port).split("/")[0].split(":")
            if len(parts) >= 2:
                return parts[-2].split("-")[0]
    return ""


def _merged_metadata(tree: Mapping[str, Any], main: str, meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """Top-level x-casaos, completed by keys misplaced in the main service's x-casaos and by a v2 meta.json."""
    top = tree.get("x-casaos")
    merged: dict[str, Any] = dict(top) if isinstance(top, Mapping) else {}
    svc = (tree.get("services") or {}).get(main) or {}
    legacy = svc.get("x-casaos") if isinstance(svc, Mapping) else None
    for key, value in (legacy or {}).items() if isinstance(legacy, Mapping) else ():
        if key not in ("envs", "ports", "volumes"):
            merged.setdefault(key, value)
    for key, value in (meta or {}).items():
        merged.setdefault("release_notes" if key == "release_note" else key, value)
    # Locale keys written straight under x-casaos are a description that lost its key.
    stray = {k: v for k, v in merged.items() if normalise_locale(k) and len(str(k)) >= 5 and isinstance(v, str)}
    if stray and not merged.get("description"):
        merged["description"] = stray
    if not merged.get("screenshot_link") and merged.get("screenshot"):
        merged["screenshot_link"] = merged["screenshot"]
    return merged


def parse_template(
    text: str | bytes, *, folder: str = "", meta: Mapping[str, Any] | None = None, content_hash: str = ""
) -> AppTemplate:
    """Read one app; raises BrokenApp with a reason a person can act on."""
    raw = text.decode("utf-8-sig", errors="replace") if isinstance(text, bytes) else text
    raw = raw.lstrip("\ufeff").replace("\r\n", "\n")
    try:
        tree = load_yaml(raw)
        check_service_count(tree)  # refused even where required values would leave the rest unchecked
    except ComposeError as exc:
        raise BrokenApp(str(exc)) from None
    services = tree.get("services")
    if not isinstance(services, Mapping) or not services:
        raise BrokenApp("the compose file has no services")
    x = tree.get("x-casaos") if isinstance(tree.get("x-casaos"), Mapping) else {}
    main = _main_service(_text(x.get("main")), services)
    data = _merged_metadata(tree, main, meta)
    app_id = (_text(tree.get("name")) or _text(data.get("id")) or folder).lower()
    if not app_id:
        raise BrokenApp("the app has no name (neither compose `name` nor `x-casaos.id`)")
    project, unchecked = _project(raw, app_id)
    title = localised(data.get("title")) or {DEFAULT_LOCALE: folder or app_id}
    author, developer = _text(data.get("author")), _text(data.get("developer"))
    screenshots = data.get("screenshot_link")
    return AppTemplate(
        store_app_id=app_id,
        package_id=_text(data.get("id")).lower(),
        folder=folder,
        compose=raw,
        content_hash=content_hash or hashlib.sha256(raw.encode()).hexdigest(),
        title=title,
        tagline=localised(data.get("tagline")),
        description=localised(data.get("description")),
        release_notes=localised(data.get("release_notes")),
        tips=_tips(data.get("tips")),
        category=_text(data.get("category")) or "Others",
        author=author,
        developer=developer,
        author_type=author_type(author, developer),
        icon=_text(data.get("icon")),
        thumbnail=_text(data.get("thumbnail")),
        screenshots=[_text(s) for s in screenshots if _text(s)] if isinstance(screenshots, list) else [],
        architectures=normalise_architectures(data.get("architectures")),
        version=_text(data.get("version")),
        update_at=_text(data.get("update_at")),
        links={k: _text(data.get(k)) for k in _LINKS if _text(data.get(k))},
        main=main,
        port_map=_text(data.get("port_map")) or _first_published_port(services.get(main)),
        index=_text(data.get("index")) or "/",
        scheme=_text(data.get("scheme")) or "http",
        services=_services_info(services, data, main),
        images=list(project.images) if project else [],
        project=project,
        unchecked=unchecked,
    )


def _project(raw: str, app_id: str) -> tuple[Project | None, str]:
    """The translated template, or (None, why) when only the values the install form asks for can make it valid
    (a ${MEDIA:?...}:/media bind reads as ":/media" until then); anything else broken is a BrokenApp."""
    variables = template_variables(app_id)
    try:
        return load_project(raw, variables=variables, project_name=project_name(app_id), collect_required=True), ""
    except ComposeError as exc:
        required = required_variables(raw, variables)
        if not required:
            raise BrokenApp(str(exc)) from None
        names = ", ".join(v.name for v in required)
        return None, f"it depends on the values asked at install ({names})"
