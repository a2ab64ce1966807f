"""The compose document of a copy of an installed app under a new name, made as the install pipeline makes a second
install of the same app: its own project, so its own containers, networks and volumes (named after the project);
its own folder under the apps' data root, as the App Store makes folders left at the default follow the name chosen
(appstore.install.values_for_name); and host ports of its own, each taken one moved to the next free one, the one the
App Store's form suggests for a taken port (appstore.install.suggest_port). `${WEBUI_PORT}` gets a free port at
install, as for any install.

What a second install of the app cannot have is refused with the reason before anything is made: names the compose
fixes (`container_name`, a volume's or a network's `name:`), which a second install would collide on (the App Store
refuses a second install of such an app the same way), and data kept outside the app's own folder or in a volume of
another project, which a copy would share with the original.
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.models import Installation
from apps.selectors import app_claimed_ports
from apps.services.install import app_project
from apps.services.policy import app_data_folder
from apps.services.settings_edit import compose_dump
from appstore.install import port_problem
from runtime.compose import ComposeError, Project, interpolate, load_project, load_yaml
from runtime.compose.ports import parse_ports

from .appdata import _data_folder

WEBUI = "WEBUI_PORT"  # the built-in port variable: every install gets a free one


class CopyRefused(Exception):
    """The app cannot be copied under that name; the message says why, in words."""


@dataclass
class CopyPlan:
    """The copy's compose document and inputs, and the host ports moved off the original's ("tcp/80" → "tcp/81")."""

    compose: str
    inputs: dict[str, str]
    ports: dict[str, str] = field(default_factory=dict)


def copy_plan(*, original: Installation, name: str) -> CopyPlan:
    """The copy's compose, checked: everything of it its own, nothing of the original's touched."""
    own = Path(app_data_folder(name))
    if own.exists() or own.is_symlink():
        raise CopyRefused(
            f"the folder {own} is still there (an app of that name was removed and kept its data): "
            "choose another name, or remove that folder first"
        )
    inputs = {k: v for k, v in original.inputs.items() if k != WEBUI}  # a fresh free port at install
    variables = {**original.variables, **inputs, "AppID": name}
    tree = load_yaml(original.compose)
    plan = CopyPlan("", inputs)
    taken: set[str] = set()
    for svc in (tree.get("services") or {}).values():
        if not isinstance(svc, dict):
            continue
        if svc.get("volumes"):
            svc["volumes"] = [_own_folder(e, variables, original.name, name) for e in svc["volumes"]]
        if svc.get("ports"):
            svc["ports"] = [_own_ports(e, variables, taken, plan.ports) for e in svc["ports"]]
    plan.compose = compose_dump(tree)
    _check(original, name, _project(plan.compose, variables, name))
    return plan


def _project(compose: str, variables: dict[str, str], name: str) -> Project:
    try:
        return load_project(compose, variables=variables, project_name=name)
    except ComposeError as exc:
        raise CopyRefused(f"the copy's compose document cannot be read: {exc}") from None


# ---------------------------------------------------------------------------- folders
def _own_folder(entry: Any, variables: dict[str, str], old: str, new: str) -> Any:
    """A bind of the original's own folder (or one below it) becomes the same folder of the copy's; any other
    entry stays as written (a `${AppID}` in it already names the copy's)."""
    if isinstance(entry, dict):
        moved = _moved_folder(_expanded(str(entry.get("source") or ""), variables), old, new)
        return {**entry, "source": _literal(moved)} if moved and entry.get("type") == "bind" else entry
    parts = _expanded(str(entry), variables).split(":")  # as runtime.compose.mounts reads the short syntax
    moved = _moved_folder(parts[0], old, new) if len(parts) > 1 else ""
    return _literal(":".join([moved, *parts[1:]])) if moved else entry


def _moved_folder(source: str, old: str, new: str) -> str:
    """The copy's place for a host path inside the original's own folder ("" for any other path)."""
    if not source.startswith("/"):
        return ""
    path, old_own = Path(os.path.normpath(source)), Path(app_data_folder(old))
    if not path.is_relative_to(old_own):
        return ""
    return str(Path(app_data_folder(new)) / path.relative_to(old_own))


def _expanded(text: str, variables: dict[str, str]) -> str:
    try:
        return interpolate(text, variables)
    except ComposeError:
        return text  # the copy's install says what is wrong with it


def _literal(text: str) -> str:
    return text.replace("$", "$$")


# ---------------------------------------------------------------------------- ports
def _own_ports(entry: Any, variables: dict[str, str], taken: set[str], moved: dict[str, str]) -> Any:
    """A published host port (or range) another app holds or something listens on moves to the next free one."""
    if WEBUI in str(entry):
        return entry  # a free one is chosen at install
    text = _expanded_entry(entry, variables)
    try:
        specs = [p for p in parse_ports([text], "ports") if p.published]
    except ComposeError:
        return entry
    if not specs:
        return entry
    protocol, first = specs[0].protocol, specs[0].published
    block = _free_block(first, len(specs), protocol, taken, keep=True) or _free_block(
        first, len(specs), protocol, taken
    )
    taken.update(f"{protocol}/{p}" for p in block)
    if block[0] == first:
        return entry
    moved.update({f"{protocol}/{s.published}": f"{protocol}/{p}" for s, p in zip(specs, block, strict=True)})
    published = str(block[0]) if len(block) == 1 else f"{block[0]}-{block[-1]}"
    return {**entry, "published": published} if isinstance(entry, dict) else _short_with(text, published)


def _expanded_entry(entry: Any, variables: dict[str, str]) -> Any:
    if isinstance(entry, dict):
        return {key: _expanded(str(value), variables) for key, value in entry.items()}
    return _expanded(str(entry), variables)


def _free_block(first: int, count: int, protocol: str, taken: set[str], *, keep: bool = False) -> list[int]:
    """`count` consecutive host ports free here and held by no app: from `first` itself (`keep`), else the next ones
    above it, outside the privileged range; [] when `keep` and they are not free."""
    claimed = app_claimed_ports()
    starts = [first] if keep else range(max(first + 1, 1024), 65536 - count + 1)
    for start in starts:
        block = list(range(start, start + count))
        if all(f"{protocol}/{p}" not in taken and not port_problem(p, protocol, claimed) for p in block):
            return block
    if keep:
        return []
    raise CopyRefused(f"no free host port is left for the copy's port {protocol}/{first}")


def _short_with(text: str, published: str) -> str:
    """A short port entry ("[host_ip:]host:container[/protocol]", read as runtime.compose.ports reads it) with
    another host part."""
    spec, slash, protocol = text.strip().partition("/")
    bracketed = re.match(r"^(\[[0-9a-fA-F:.]+\]):(.*)$", spec)
    host_ip, spec = (bracketed.group(1) + ":", bracketed.group(2)) if bracketed else ("", spec)
    parts = spec.split(":")
    if len(parts) == 3:
        host_ip = parts[0] + ":"
    return f"{host_ip}{published}:{parts[-1]}{slash}{protocol}"


# ---------------------------------------------------------------------------- what a copy cannot have
def _check(original: Installation, name: str, copy: Project) -> None:
    """Refuse names the compose fixes and data the copy would share with the original."""
    old = app_project(installation=original)
    for kind, mine, theirs in (
        ("containers", {c.name for c in copy.containers}, {c.name for c in old.containers}),
        ("networks", {n.name for n in copy.networks if not n.external}, {n.name for n in old.networks}),
        ("volumes", {v.name for v in copy.volumes if not v.external}, {v.name for v in old.volumes}),
    ):
        if fixed := sorted(mine & theirs):
            raise CopyRefused(
                f"{original.name} fixes the names of its {kind} ({', '.join(fixed)}): a second install of it, a copy "
                "too, would need the same names, so it cannot run beside the original"
            )
    _check_data(original, old, copy, Path(app_data_folder(name)))


def _check_data(original: Installation, old: Project, copy: Project, own: Path) -> None:
    """Each folder and named volume the original keeps data in has a place of its own in the copy."""
    new = {(spec.service, m.target): m for spec in copy.containers for m in spec.mounts}
    external = {v.name for v in old.volumes if v.external}
    for spec in old.containers:
        for mount in spec.mounts:
            pair = new.get((spec.service, mount.target))
            if mount.type == "bind" and _data_folder(mount.source):
                if pair is None or not Path(os.path.normpath(pair.source)).is_relative_to(own):
                    raise CopyRefused(
                        f"{original.name} keeps data in {mount.source}, outside its own folder: "
                        "a copy would share it with the original"
                    )
            elif mount.type == "volume" and mount.source in external:
                raise CopyRefused(
                    f"{original.name} keeps data in the volume {mount.source}, which is not its own: "
                    "a copy would share it with the original"
                )
