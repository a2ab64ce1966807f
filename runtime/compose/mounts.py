"""Service volumes (short and long syntax) and tmpfs, normalised to MountSpec; bind-like named volumes become binds."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from runtime.compose.fields import as_bool, as_list, as_mapping, as_str, byte_size, check_keys, join
from runtime.errors import ComposeError
from runtime.specs import MountSpec, VolumeSpec

_LONG_KEYS = ("type", "source", "target", "read_only", "bind", "volume", "tmpfs", "consistency")
_PROPAGATIONS = ("shared", "rshared", "slave", "rslave", "private", "rprivate")
_IGNORED_MODES = ("rw", "z", "Z", "cached", "delegated", "consistent")


def bind_source_of(volume: VolumeSpec) -> str | None:
    """Host path of a local volume that is really a bind (driver_opts o=bind, device=/path), else None."""
    if volume.driver not in ("", "local") or volume.external:
        return None
    flags = volume.driver_opts.get("o", "").split(",")
    device = volume.driver_opts.get("device", "")
    if ("bind" in flags or "rbind" in flags) and device:
        return device
    return None


def parse_volumes(value: Any, path: str, *, volumes: Mapping[str, VolumeSpec], project_dir: str) -> list[MountSpec]:
    """All entries of a service's `volumes` list."""
    mounts = []
    for i, item in enumerate(as_list(value, path)):
        item_path = f"{path}[{i}]"
        if isinstance(item, dict):
            mount = _long(item, item_path, volumes, project_dir)
        else:
            mount = _short(as_str(item, item_path), item_path, volumes, project_dir)
        mounts.append(mount)
    return mounts


def parse_tmpfs(value: Any, path: str) -> list[MountSpec]:
    """Service-level `tmpfs`: a string or list of "/path[:opt,opt]"."""
    items = [value] if isinstance(value, str) else as_list(value, path)
    mounts = []
    for i, item in enumerate(items):
        target, _, opts = as_str(item, f"{path}[{i}]").partition(":")
        size, mode, extra = None, None, []
        for opt in filter(None, opts.split(",")):
            key, _, val = opt.partition("=")
            if key == "size":
                size = byte_size(val, f"{path}[{i}]")
            elif key == "mode":
                mode = int(val, 8)
            else:
                extra.append(opt)
        mounts.append(
            MountSpec(
                type="tmpfs", target=_target(target, path), tmpfs_size=size, tmpfs_mode=mode, tmpfs_options=tuple(extra)
            )
        )
    return mounts


def _short(text: str, path: str, volumes: Mapping[str, VolumeSpec], project_dir: str) -> MountSpec:
    """SOURCE:TARGET[:MODE] or TARGET (an anonymous volume)."""
    parts = text.split(":")
    if len(parts) == 1:
        return MountSpec(type="volume", target=_target(parts[0], path))
    if len(parts) > 3:
        raise ComposeError(f"invalid volume {text!r}", path)
    source, target = parts[0], parts[1]
    modes = parts[2].split(",") if len(parts) == 3 else []
    unknown = [m for m in modes if m not in (*_IGNORED_MODES, "ro", "nocopy", *_PROPAGATIONS)]
    if unknown:
        raise ComposeError(f"unknown volume mode {','.join(unknown)!r}", path)
    read_only = "ro" in modes
    propagation = next((m for m in modes if m in _PROPAGATIONS), "")
    if _is_path(source):
        return MountSpec(
            type="bind",
            source=_host_path(source, path, project_dir),
            target=_target(target, path),
            read_only=read_only,
            propagation=propagation,
        )
    return _named(source, _target(target, path), read_only, "nocopy" in modes, path, volumes)


def _long(item: dict[str, Any], path: str, volumes: Mapping[str, VolumeSpec], project_dir: str) -> MountSpec:
    """Long syntax: type bind|volume|tmpfs with its own options block."""
    check_keys(item, _LONG_KEYS, path)
    kind = as_str(item.get("type", "volume"), join(path, "type"))
    target = _target(as_str(item.get("target", ""), join(path, "target")), path)
    source = as_str(item.get("source") or "", join(path, "source"))
    read_only = as_bool(item.get("read_only", False), join(path, "read_only"))
    if kind == "bind":
        opts = as_mapping(item.get("bind"), join(path, "bind"))
        check_keys(opts, ("propagation", "create_host_path", "selinux"), join(path, "bind"))
        if not source:
            raise ComposeError("a bind mount needs a source", path)
        return MountSpec(
            type="bind",
            source=_host_path(source, path, project_dir),
            target=target,
            read_only=read_only,
            propagation=as_str(opts.get("propagation", ""), join(path, "bind.propagation")),
            create_host_path=as_bool(opts.get("create_host_path", True), join(path, "bind")),
        )
    if kind == "volume":
        opts = as_mapping(item.get("volume"), join(path, "volume"))
        check_keys(opts, ("nocopy",), join(path, "volume"))
        nocopy = as_bool(opts.get("nocopy", False), join(path, "volume.nocopy"))
        if not source:
            return MountSpec(type="volume", target=target, read_only=read_only, nocopy=nocopy)
        return _named(source, target, read_only, nocopy, path, volumes)
    if kind == "tmpfs":
        opts = as_mapping(item.get("tmpfs"), join(path, "tmpfs"))
        check_keys(opts, ("size", "mode"), join(path, "tmpfs"))
        size = byte_size(opts["size"], join(path, "tmpfs.size")) if "size" in opts else None
        mode = opts.get("mode")
        return MountSpec(
            type="tmpfs",
            target=target,
            read_only=read_only,
            tmpfs_size=size,
            tmpfs_mode=int(str(mode), 8) if isinstance(mode, str) else mode,
        )
    raise ComposeError(f"volume type {kind!r} is not supported", join(path, "type"))


def _named(
    key: str, target: str, read_only: bool, nocopy: bool, path: str, volumes: Mapping[str, VolumeSpec]
) -> MountSpec:
    """A named volume reference; a bind-like declaration is turned into the bind it really is."""
    if key not in volumes:
        raise ComposeError(f"refers to undefined volume {key!r}", path)
    declared = volumes[key]
    device = bind_source_of(declared)
    if device is not None:
        if not device.startswith("/"):
            raise ComposeError(f"bind device {device!r} of volume {key!r} must be absolute", path)
        return MountSpec(type="bind", source=_norm(device), target=target, read_only=read_only, create_host_path=False)
    return MountSpec(type="volume", source=declared.name, target=target, read_only=read_only, nocopy=nocopy)


def _is_path(source: str) -> bool:
    """Compose treats sources starting with '/', '.' or '~' as host paths, anything else as a volume name."""
    return source.startswith(("/", ".", "~"))


def _host_path(source: str, path: str, project_dir: str) -> str:
    """Absolute, normalised host path; relative paths need the project directory to resolve against."""
    if source.startswith("~"):
        raise ComposeError(f"home-relative bind source {source!r} is not supported", path)
    if not source.startswith("/"):
        if not project_dir:
            raise ComposeError(f"relative bind source {source!r} needs a project directory", path)
        source = posixpath.join(project_dir, source)
    return _norm(source)


def _target(target: str, path: str) -> str:
    """Container paths must be absolute."""
    if not target.startswith("/"):
        raise ComposeError(f"container path {target!r} must be absolute", path)
    return _norm(target)


def _norm(path: str) -> str:
    """normpath, plus collapsing the '//' prefix POSIX keeps, so '//etc' cannot dodge a policy on '/etc'."""
    return "/" + posixpath.normpath(path).lstrip("/") if path.startswith("/") else posixpath.normpath(path)
