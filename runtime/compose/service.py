"""Translate one compose service into a ContainerSpec."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runtime import labels as L
from runtime.compose import resources
from runtime.compose.fields import (
    as_bool,
    as_float,
    as_int,
    as_list,
    as_mapping,
    as_str,
    as_str_tuple,
    byte_size,
    check_keys,
    command,
    duration,
    extensions,
    join,
    key_values,
)
from runtime.compose.mounts import parse_tmpfs, parse_volumes
from runtime.compose.ports import parse_ports
from runtime.errors import ComposeError
from runtime.specs import ContainerSpec, Dependency, FileSpec, NetworkAttachment, NetworkSpec, VolumeSpec

# Every key we translate. Anything else (extends, volumes_from, external_links, ...) is rejected by name.
SERVICE_KEYS = (
    "image",
    "container_name",
    "command",
    "entrypoint",
    "environment",
    "ports",
    "expose",
    "volumes",
    "tmpfs",
    "networks",
    "network_mode",
    "depends_on",
    "healthcheck",
    "restart",
    "labels",
    "user",
    "working_dir",
    "hostname",
    "domainname",
    "cap_add",
    "cap_drop",
    "devices",
    "privileged",
    "pid",
    "ipc",
    "userns_mode",
    "cgroup",
    "cgroup_parent",
    "security_opt",
    "sysctls",
    "ulimits",
    "group_add",
    "shm_size",
    "extra_hosts",
    "dns",
    "dns_search",
    "dns_opt",
    "stop_signal",
    "stop_grace_period",
    "init",
    "tty",
    "stdin_open",
    "read_only",
    "deploy",
    "mem_limit",
    "mem_reservation",
    "memswap_limit",
    "cpus",
    "cpu_shares",
    "cpuset",
    "pids_limit",
    "oom_score_adj",
    "runtime",
    "platform",
    "mac_address",
    "logging",
    "configs",
    "secrets",
    "profiles",
    "links",
    "pull_policy",
)
_SIMPLE_STR = (
    "user",
    "working_dir",
    "hostname",
    "domainname",
    "userns_mode",
    "cgroup_parent",
    "stop_signal",
    "runtime",
    "platform",
    "mac_address",
    "cpuset",
)
_SIMPLE_BOOL = ("privileged", "tty", "stdin_open", "read_only")
_SIMPLE_TUPLE = ("cap_add", "cap_drop", "security_opt", "group_add", "dns", "dns_search", "dns_opt")
_CONTAINER_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")
_PULL_POLICIES = {"always": "always", "missing": "missing", "if_not_present": "missing", "never": "never"}
_NO_BUILD = "is not supported: building images is not supported here, the app must name a published image"


@dataclass(frozen=True)
class Context:
    """Project-wide facts a service translation needs."""

    project: str
    variables: Mapping[str, str]
    networks: Mapping[str, NetworkSpec]
    volumes: Mapping[str, VolumeSpec]
    files: Mapping[str, bytes]  # configs/secrets key -> inline content
    container_names: Mapping[str, str]  # service -> container name
    project_dir: str = ""
    link_aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # service -> names its linkers use


def translate_service(name: str, svc: dict[str, Any], ctx: Context) -> ContainerSpec:
    """ContainerSpec for one service; labels carry Compose's and ours (the config hash is added later)."""
    path = f"services.{name}"
    if "build" in svc:
        raise ComposeError(_NO_BUILD, join(path, "build"))
    check_keys(svc, SERVICE_KEYS, path)
    if not svc.get("image"):
        raise ComposeError("image is required (build is not supported)", path)
    kw: dict[str, Any] = {k: as_str(svc[k], join(path, k)) for k in _SIMPLE_STR if svc.get(k) is not None}
    kw.update({k: as_bool(svc[k], join(path, k)) for k in _SIMPLE_BOOL if svc.get(k) is not None})
    kw.update({k: as_str_tuple(svc[k], join(path, k)) for k in _SIMPLE_TUPLE if svc.get(k) is not None})
    kw["cap_add"] = _caps(kw.get("cap_add", ()))
    kw["cap_drop"] = _caps(kw.get("cap_drop", ()))
    kw.update(_resources(svc, path))
    kw.update(_networking(name, svc, path, ctx))
    kw.update(_process(svc, path, ctx))
    mounts = parse_volumes(svc.get("volumes"), join(path, "volumes"), volumes=ctx.volumes, project_dir=ctx.project_dir)
    mounts += parse_tmpfs(svc["tmpfs"], join(path, "tmpfs")) if svc.get("tmpfs") is not None else []
    return ContainerSpec(
        name=ctx.container_names[name],
        image=as_str(svc["image"], join(path, "image")),
        service=name,
        labels=_labels(name, svc, path, ctx),
        mounts=tuple(mounts),
        depends_on=_with_links(
            _depends_on(svc.get("depends_on"), join(path, "depends_on"), ctx), links(svc, path, ctx.container_names)
        ),
        files=_files(svc, path, ctx),
        extensions=extensions(svc),
        **kw,
    )


def _process(svc: dict[str, Any], path: str, ctx: Context) -> dict[str, Any]:
    """Command, environment, healthcheck, restart, logging and other per-process settings."""
    kw: dict[str, Any] = {
        "command": command(svc.get("command"), join(path, "command")),
        "entrypoint": command(svc.get("entrypoint"), join(path, "entrypoint")),
        "env": _environment(svc.get("environment"), join(path, "environment"), ctx.variables),
    }
    if "healthcheck" in svc:
        kw["healthcheck"] = resources.healthcheck(svc["healthcheck"], join(path, "healthcheck"))
    if svc.get("restart") is not None:
        kw["restart"] = resources.restart_policy(svc["restart"], join(path, "restart"))
    if svc.get("logging") is not None:
        kw["logging"] = resources.logging(svc["logging"], join(path, "logging"))
    if svc.get("stop_grace_period") is not None:
        kw["stop_grace_period"] = duration(svc["stop_grace_period"], join(path, "stop_grace_period"))
    if svc.get("init") is not None:
        kw["init"] = as_bool(svc["init"], join(path, "init"))
    if svc.get("sysctls") is not None:
        kw["sysctls"] = {k: v or "" for k, v in key_values(svc["sysctls"], join(path, "sysctls")).items()}
    if svc.get("ulimits") is not None:
        kw["ulimits"] = resources.ulimits(svc["ulimits"], join(path, "ulimits"))
    if svc.get("devices") is not None:
        kw["devices"] = resources.devices(svc["devices"], join(path, "devices"))
    if svc.get("expose") is not None:
        kw["expose"] = as_str_tuple(svc["expose"], join(path, "expose"))
    if svc.get("pull_policy") is not None:
        kw["pull_policy"] = _pull_policy(svc["pull_policy"], join(path, "pull_policy"))
    if svc.get("cgroup") is not None:
        kw["cgroup"] = _choice(svc["cgroup"], join(path, "cgroup"), ("host", "private"))
    if svc.get("pid") is not None:
        kw["pid"] = _namespace(svc["pid"], join(path, "pid"), ctx)
    if svc.get("ipc") is not None:
        kw["ipc"] = _namespace(svc["ipc"], join(path, "ipc"), ctx)
    return kw


def _resources(svc: dict[str, Any], path: str) -> dict[str, Any]:
    """Legacy limit keys first, then deploy.resources (which wins, as in Compose)."""
    kw: dict[str, Any] = {}
    for key in ("mem_limit", "mem_reservation", "memswap_limit", "shm_size"):
        if svc.get(key) is not None:
            kw[key] = byte_size(svc[key], join(path, key))
    for key in ("cpu_shares", "pids_limit", "oom_score_adj"):
        if svc.get(key) is not None:
            kw[key] = as_int(svc[key], join(path, key))
    if svc.get("cpus") is not None:
        kw["cpus"] = as_float(svc["cpus"], join(path, "cpus"))
    if svc.get("deploy") is not None:
        kw.update(resources.deploy(svc["deploy"], join(path, "deploy")))
    return kw


def _networking(name: str, svc: dict[str, Any], path: str, ctx: Context) -> dict[str, Any]:
    """network_mode or network attachments (the default network when neither is given), ports, DNS."""
    kw: dict[str, Any] = {"ports": parse_ports(svc.get("ports"), join(path, "ports"))}
    if svc.get("extra_hosts") is not None:
        kw["extra_hosts"] = resources.extra_hosts(svc["extra_hosts"], join(path, "extra_hosts"))
    if svc.get("network_mode") is not None:
        if svc.get("networks"):
            raise ComposeError("network_mode and networks cannot be combined", join(path, "networks"))
        kw["network_mode"] = _network_mode(as_str(svc["network_mode"], join(path, "network_mode")), path, ctx)
        return kw
    nets = svc.get("networks")
    if nets is None:
        nets = {"default": None}
    elif isinstance(nets, list):
        nets = {as_str(n, join(path, "networks")): None for n in nets}
    kw["networks"] = tuple(
        _attachment(name, key, cfg, join(path, f"networks.{key}"), ctx)
        for key, cfg in as_mapping(nets, join(path, "networks")).items()
    )
    return kw


def _attachment(service: str, key: str, cfg: Any, path: str, ctx: Context) -> NetworkAttachment:
    """One service network; the service name is always an alias so siblings resolve it by DNS."""
    if key not in ctx.networks:
        raise ComposeError(f"refers to undefined network {key!r}", path)
    cfg = as_mapping(cfg, path)
    check_keys(cfg, ("aliases", "ipv4_address", "ipv6_address", "priority"), path)
    aliases = (service, *ctx.link_aliases.get(service, ()), *as_str_tuple(cfg.get("aliases"), join(path, "aliases")))
    return NetworkAttachment(
        network=ctx.networks[key].name,
        aliases=tuple(dict.fromkeys(aliases)),
        ipv4_address=as_str(cfg.get("ipv4_address", ""), join(path, "ipv4_address")),
        ipv6_address=as_str(cfg.get("ipv6_address", ""), join(path, "ipv6_address")),
    )


def _network_mode(mode: str, path: str, ctx: Context) -> str:
    """host | none | bridge (also spelled default) | service:<name> | container:<name>."""
    if mode in ("host", "none", "bridge"):
        return mode
    if mode == "default":
        return "bridge"  # Docker's name for the default bridge
    return _namespace(mode, join(path, "network_mode"), ctx, allowed=())


def _namespace(value: Any, path: str, ctx: Context, allowed: tuple[str, ...] = ("host", "private", "shareable")) -> str:
    """pid/ipc/network sharing: a keyword, service:<name> (-> container:<its name>) or container:<x>."""
    text = as_str(value, path)
    if text in allowed:
        return text
    kind, _, target = text.partition(":")
    if kind == "service" and target in ctx.container_names:
        return f"container:{ctx.container_names[target]}"
    if kind == "container" and target:
        return text
    raise ComposeError(f"unsupported value {text!r}", path)


def _pull_policy(value: Any, path: str) -> str:
    """always | missing (also if_not_present) | never; `build` is refused in words."""
    text = as_str(value, path)
    if text == "build":
        raise ComposeError(_NO_BUILD.removeprefix("is not supported: "), path)
    return _PULL_POLICIES[_choice(text, path, tuple(_PULL_POLICIES))]


def _choice(value: Any, path: str, allowed: tuple[str, ...]) -> str:
    """One of a few keywords."""
    text = as_str(value, path)
    if text not in allowed:
        raise ComposeError(f"unsupported value {text!r} (use {', '.join(allowed)})", path)
    return text


def links(svc: Mapping[str, Any], path: str, services: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """`links` as (service, alias) pairs: "db" or "db:database"; each must name a service of the file."""
    pairs = []
    for i, item in enumerate(as_list(svc.get("links"), join(path, "links"))):
        item_path = f"{path}.links[{i}]"
        target, _, alias = as_str(item, item_path).partition(":")
        if target not in services:
            raise ComposeError(f"refers to undefined service {target!r}", item_path)
        if not _CONTAINER_NAME.match(alias or target):
            raise ComposeError(f"invalid alias {alias!r}", item_path)
        pairs.append((target, alias or target))
    return tuple(pairs)


def _with_links(deps: tuple[Dependency, ...], linked: tuple[tuple[str, str], ...]) -> tuple[Dependency, ...]:
    """A linked service starts first, as with Compose; an explicit depends_on entry keeps its condition."""
    named = {d.service for d in deps}
    extra = dict.fromkeys(target for target, _alias in linked if target not in named)
    return deps + tuple(Dependency(service=target) for target in extra)


def _environment(value: Any, path: str, variables: Mapping[str, str]) -> dict[str, str]:
    """Map or list form; a bare name takes its value from the given variables, else it is left out."""
    env = {}
    for key, val in key_values(value, path).items():
        if val is None:
            if key not in variables:
                continue
            val = variables[key]
        env[key] = val
    return env


def _labels(name: str, svc: dict[str, Any], path: str, ctx: Context) -> dict[str, str]:
    """User labels plus Compose's and ours; a file may not forge the labels we use to find an app's objects."""
    user = {k: v or "" for k, v in key_values(svc.get("labels") or {}, join(path, "labels")).items()}
    forged = [k for k in user if k.startswith(("com.docker.compose.", "io.casaos."))]
    if forged:
        raise ComposeError(f"reserved label {forged[0]!r}", join(path, "labels"))
    return {**user, **L.container_labels(ctx.project, name)}


def _depends_on(value: Any, path: str, ctx: Context) -> tuple[Dependency, ...]:
    """List form (service_started) or map form with condition / required / restart."""
    if isinstance(value, list):
        value = {as_str(v, path): None for v in value}
    deps = []
    for service, cfg in as_mapping(value, path).items():
        cfg = as_mapping(cfg, join(path, service))
        check_keys(cfg, ("condition", "required", "restart"), join(path, service))
        condition = as_str(cfg.get("condition", "service_started"), join(path, f"{service}.condition"))
        if condition not in _CONDITIONS:
            raise ComposeError(f"unknown condition {condition!r}", join(path, f"{service}.condition"))
        deps.append(
            Dependency(
                service=str(service),
                condition=condition,  # type: ignore[arg-type]
                required=as_bool(cfg.get("required", True), join(path, f"{service}.required")),
                restart=as_bool(cfg.get("restart", False), join(path, f"{service}.restart")),
            )
        )
    return tuple(deps)


def _files(svc: dict[str, Any], path: str, ctx: Context) -> tuple[FileSpec, ...]:
    """configs (default target /<name>) and secrets (default /run/secrets/<name>) with inline content."""
    files = []
    for key, default_dir in (("configs", "/"), ("secrets", "/run/secrets/")):
        for i, item in enumerate(as_list(svc.get(key), join(path, key))):
            item_path = f"{path}.{key}[{i}]"
            ref = {"source": item} if isinstance(item, str) else as_mapping(item, item_path)
            check_keys(ref, ("source", "target", "uid", "gid", "mode"), item_path)
            source = as_str(ref.get("source", ""), item_path)
            if f"{key}.{source}" not in ctx.files:
                raise ComposeError(f"refers to undefined {key[:-1]} {source!r}", item_path)
            target = as_str(ref.get("target") or source, item_path)
            mode = ref.get("mode", 0o444)
            files.append(
                FileSpec(
                    target=target if target.startswith("/") else default_dir + target,
                    content=ctx.files[f"{key}.{source}"],
                    mode=int(mode, 8) if isinstance(mode, str) else as_int(mode, item_path),
                    uid=as_int(ref.get("uid", 0), item_path),
                    gid=as_int(ref.get("gid", 0), item_path),
                    secret=key == "secrets",
                )
            )
    return tuple(files)


def _caps(caps: tuple[str, ...]) -> tuple[str, ...]:
    """Upper case without the CAP_ prefix, so a policy compares one spelling."""
    return tuple(c.upper().removeprefix("CAP_") for c in caps)


def validate_container_name(name: str, path: str) -> str:
    """Container names become DNS names and paths: keep Docker's alphabet. The aside suffix is ours: another app
    holding `<name>-casaos-old` would block every change of the app that owns `<name>`."""
    if not _CONTAINER_NAME.match(name):
        raise ComposeError(f"invalid container name {name!r}", path)
    if L.is_aside(name):
        raise ComposeError(f"container names ending in {L.ASIDE!r} are reserved", path)
    return name
