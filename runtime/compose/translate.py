"""Project-level translation: names, profiles, networks, volumes, configs, ordering and config hashes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, replace
from typing import Any

from runtime import labels as L
from runtime.compose.fields import as_bool, as_mapping, as_str, as_str_tuple, check_keys, extensions, join, key_values
from runtime.compose.model import Project
from runtime.compose.mounts import bind_source_of
from runtime.compose.service import Context, links, translate_service, validate_container_name
from runtime.errors import ComposeError
from runtime.specs import ContainerSpec, IpamSpec, NetworkSpec, VolumeSpec

TOP_KEYS = ("version", "name", "services", "networks", "volumes", "configs", "secrets")


def translate(
    tree: dict[str, Any],
    *,
    project_name: str,
    variables: Mapping[str, str] | None = None,
    profiles: Iterable[str] = (),
    project_dir: str = "",
) -> Project:
    """Turn an interpolated compose tree into a Project of engine specs."""
    check_keys(tree, TOP_KEYS, "")
    if not L.is_valid_project_name(project_name):
        raise ComposeError(f"invalid project name {project_name!r}: use lowercase letters, digits, '-' and '_'", "name")
    services = as_mapping(tree.get("services"), "services")
    if not services:
        raise ComposeError("at least one service is required", "services")
    active, disabled = _active_services(services, set(profiles))
    container_names = _container_names(services, project_name)
    ctx = Context(
        project=project_name,
        variables=variables or {},
        networks=_networks(tree.get("networks"), project_name),
        volumes=_volumes(tree.get("volumes"), project_name),
        files=_files(tree, variables or {}),
        container_names=container_names,
        project_dir=project_dir,
        link_aliases=_link_aliases(services, active, container_names),
    )
    specs = {name: translate_service(name, as_mapping(services[name], f"services.{name}"), ctx) for name in active}
    ordered = [_finish(specs[name]) for name in start_order(specs)]
    used = {a.network for spec in ordered for a in spec.networks}
    return Project(
        name=project_name,
        containers=tuple(ordered),
        networks=tuple(n for n in ctx.networks.values() if n.name in used),  # Compose creates only used networks
        volumes=tuple(v for v in ctx.volumes.values() if not _is_bind_like(v)),
        extensions=extensions(tree),
        disabled_services=tuple(disabled),
    )


def start_order(specs: Mapping[str, ContainerSpec]) -> list[str]:
    """Topological order over depends_on and service:/container: references; a cycle is an error."""
    deps = {name: _dependencies(spec, specs) for name, spec in specs.items()}
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join((*trail[trail.index(name) :], name))
            raise ComposeError(f"dependency cycle: {cycle}", f"services.{name}.depends_on")
        state[name] = 1
        for dep in deps[name]:
            visit(dep, (*trail, name))
        state[name] = 2
        order.append(name)

    for name in specs:  # file order breaks ties, so the result is stable
        visit(name, ())
    return order


def _dependencies(spec: ContainerSpec, specs: Mapping[str, ContainerSpec]) -> list[str]:
    """Services this one needs started first; required deps must exist, optional missing ones are dropped."""
    by_container = {s.name: name for name, s in specs.items()}
    result = []
    for dep in spec.depends_on:
        if dep.service not in specs:
            if dep.required:
                raise ComposeError(
                    f"depends on undefined or disabled service {dep.service!r}", f"services.{spec.service}.depends_on"
                )
            continue
        result.append(dep.service)
    for mode in (spec.network_mode, spec.pid, spec.ipc):  # sharing a namespace needs the other container up
        if mode.startswith("container:") and mode[10:] in by_container:
            result.append(by_container[mode[10:]])
    return result


def _link_aliases(
    services: Mapping[str, Any], active: list[str], container_names: Mapping[str, str]
) -> dict[str, tuple[str, ...]]:
    """service -> the extra names its linkers reach it by: a link becomes a network alias of the linked service."""
    aliases: dict[str, dict[str, None]] = {}
    for name in active:
        svc = as_mapping(services[name], f"services.{name}")
        for target, alias in links(svc, f"services.{name}", container_names):
            aliases.setdefault(target, {})[alias] = None
    return {target: tuple(names) for target, names in aliases.items()}


# Left out of the config hash: how an image is fetched does not change what runs (Compose leaves it out too).
_UNHASHED = ("pull_policy",)
# Hashed only when set, so apps installed before these keys existed keep their hash (and their containers).
_HASHED_WHEN_SET = ("cgroup",)


def _finish(spec: ContainerSpec) -> ContainerSpec:
    """Add the depends_on and config-hash labels (sha256 of the normalised spec, like Compose's)."""
    labels = dict(spec.labels)
    if spec.depends_on:
        labels[L.DEPENDS_ON] = ",".join(f"{d.service}:{d.condition}:{str(d.restart).lower()}" for d in spec.depends_on)
    spec = replace(spec, labels=labels)
    fields = {k: v for k, v in asdict(spec).items() if k not in _UNHASHED and not (k in _HASHED_WHEN_SET and not v)}
    # A file's `secret` says where a swarm keeps it; on one box it is copied in as any file: not part of the hash.
    fields["files"] = [{k: v for k, v in f.items() if k != "secret"} for f in fields["files"]]
    payload = json.dumps(fields, sort_keys=True, default=lambda o: o.hex() if isinstance(o, bytes) else str(o))
    return replace(spec, labels={**labels, L.CONFIG_HASH: hashlib.sha256(payload.encode()).hexdigest()})


def _active_services(services: dict[str, Any], profiles: set[str]) -> tuple[list[str], list[str]]:
    """Services without profiles always run; others only when one of their profiles is active."""
    active, disabled = [], []
    for name, svc in services.items():
        if not isinstance(name, str) or not L.is_valid_service_name(name):
            raise ComposeError(f"invalid service name {name!r}", "services")
        wanted = set(as_str_tuple(as_mapping(svc, f"services.{name}").get("profiles"), f"services.{name}.profiles"))
        (active if not wanted or wanted & profiles or "*" in profiles else disabled).append(name)
    return active, disabled


def _container_names(services: dict[str, Any], project: str) -> dict[str, str]:
    """container_name when given, else <project>-<service>-1; duplicates are an error."""
    names: dict[str, str] = {}
    for service, svc in services.items():
        given = (svc or {}).get("container_name")
        path = f"services.{service}.container_name"
        name = validate_container_name(as_str(given, path), path) if given else L.container_name(project, service)
        if name in names.values():
            raise ComposeError(f"container name {name!r} is used twice", path)
        names[service] = name
    return names


def _networks(value: Any, project: str) -> dict[str, NetworkSpec]:
    """Declared networks plus the implicit `default`, with engine names and labels."""
    declared = as_mapping(value, "networks")
    result = {
        "default": NetworkSpec(
            name=L.network_name(project, "default"), key="default", labels=L.network_labels(project, "default")
        )
    }
    for key, cfg in declared.items():
        path = f"networks.{key}"
        cfg = as_mapping(cfg, path)
        check_keys(
            cfg,
            ("driver", "driver_opts", "attachable", "enable_ipv6", "ipam", "internal", "labels", "external", "name"),
            path,
        )
        external = as_bool(cfg.get("external", False), join(path, "external"))
        name = as_str(cfg.get("name") or (key if external else L.network_name(project, key)), join(path, "name"))
        user_labels = {k: v or "" for k, v in key_values(cfg.get("labels") or {}, join(path, "labels")).items()}
        result[key] = NetworkSpec(
            name=name,
            key=key,
            external=external,
            driver=as_str(cfg.get("driver") or "bridge", join(path, "driver")),
            driver_opts={k: v or "" for k, v in key_values(cfg.get("driver_opts") or {}, path).items()},
            internal=as_bool(cfg.get("internal", False), join(path, "internal")),
            attachable=as_bool(cfg.get("attachable", False), join(path, "attachable")),
            enable_ipv6=as_bool(cfg.get("enable_ipv6", False), join(path, "enable_ipv6")),
            ipam=_ipam(cfg.get("ipam"), join(path, "ipam")) if cfg.get("ipam") is not None else None,
            labels={} if external else {**user_labels, **L.network_labels(project, key)},
        )
    return result


def _ipam(value: Any, path: str) -> IpamSpec:
    """IPAM driver, pools and options."""
    ipam = as_mapping(value, path)
    check_keys(ipam, ("driver", "config", "options"), path)
    pools = []
    for i, pool in enumerate(ipam.get("config") or []):
        pool = as_mapping(pool, f"{path}.config[{i}]")
        check_keys(pool, ("subnet", "ip_range", "gateway", "aux_addresses"), f"{path}.config[{i}]")
        pools.append(
            {
                k: as_str(v, f"{path}.config[{i}].{k}")
                for k, v in pool.items()
                if k != "aux_addresses" and not k.startswith("x-")
            }
        )
    return IpamSpec(
        driver=as_str(ipam.get("driver") or "", join(path, "driver")),
        config=tuple(pools),
        options={k: v or "" for k, v in key_values(ipam.get("options") or {}, path).items()},
    )


def _volumes(value: Any, project: str) -> dict[str, VolumeSpec]:
    """Declared named volumes with engine names and labels."""
    result = {}
    for key, cfg in as_mapping(value, "volumes").items():
        path = f"volumes.{key}"
        cfg = as_mapping(cfg, path)
        check_keys(cfg, ("driver", "driver_opts", "external", "labels", "name"), path)
        external = as_bool(cfg.get("external", False), join(path, "external"))
        name = as_str(cfg.get("name") or (key if external else L.volume_name(project, key)), join(path, "name"))
        user_labels = {k: v or "" for k, v in key_values(cfg.get("labels") or {}, join(path, "labels")).items()}
        result[key] = VolumeSpec(
            name=name,
            key=key,
            external=external,
            driver=as_str(cfg.get("driver") or "local", join(path, "driver")),
            driver_opts={
                k: v or "" for k, v in key_values(cfg.get("driver_opts") or {}, join(path, "driver_opts")).items()
            },
            labels={} if external else {**user_labels, **L.volume_labels(project, key)},
        )
    return result


def _files(tree: dict[str, Any], variables: Mapping[str, str]) -> dict[str, bytes]:
    """Top-level configs/secrets with inline `content` or `environment`; host `file:` sources are refused."""
    result = {}
    for section in ("configs", "secrets"):
        for key, cfg in as_mapping(tree.get(section), section).items():
            path = f"{section}.{key}"
            cfg = as_mapping(cfg, path)
            check_keys(cfg, ("content", "environment", "name"), path)  # `file:` would read host files
            if "content" in cfg:
                result[f"{section}.{key}"] = as_str(cfg["content"], join(path, "content")).encode()
            elif "environment" in cfg:
                result[f"{section}.{key}"] = variables.get(as_str(cfg["environment"], path), "").encode()
            else:
                raise ComposeError("needs content or environment", path)
    return result


def _is_bind_like(volume: VolumeSpec) -> bool:
    """Bind-like volumes were turned into binds, so there is nothing to create."""
    return bind_source_of(volume) is not None
