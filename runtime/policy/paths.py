"""Host paths given to a container: allowed inside the app's own folder and the installer's writable roots only.

Every path is resolved first (symlinks, `..`, `//`), then compared by whole components, never as a string prefix.
Our data directory, our code, the engine's data root and its socket are explicit host access: a consent must name
them. A path that contains one of them (`/var` holds `/var/lib/docker`) counts as that path.
"""

from __future__ import annotations

import os

from runtime.policy.model import Context, Finding, host_access

SYSTEM_DIRS = ("/etc", "/root", "/boot", "/proc", "/sys", "/dev", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/var")
# Host files an app may read without consent: the clock's time zone, which every program may read anyway.
READ_ONLY_FILES = frozenset({"/etc/localtime", "/etc/timezone"})
WHAT = {
    "casaos_data": "the home cloud's own data (its database and secret key)",
    "casaos_code": "the home cloud's own code",
    "engine_data": "the container engine's data",
    "engine_socket": "the container engine's socket",
}


def real(path: str) -> str:
    """The path with every symlink, `.`, `..` and doubled slash resolved (missing tails are kept as written)."""
    return os.path.realpath("/" + path.lstrip("/"))


def inside(path: str, root: str) -> bool:
    """`path` is `root` or lies below it (component-wise: /DATA-evil is not inside /DATA)."""
    return path == root or path.startswith(root.rstrip("/") + "/")


def allowed(path: str, ctx: Context) -> bool:
    """No consent needed: inside the app's folder or a writable root, and clear of guarded folders."""
    path = real(path)
    roots = _roots(ctx)
    return any(inside(path, r) for r in roots) and not any(
        _touches(path, guarded, roots) for guarded in (*_protected_paths(ctx), *map(real, ctx.excluded))
    )


def bind_findings(
    source: str, target: str, key: str, ctx: Context, service: str, *, read_only: bool = False
) -> list[Finding]:
    """Nothing for an allowed source; host access otherwise, explicit for our own data, code and the engine."""
    if allowed(source, ctx) or (read_only and os.path.normpath(source) in READ_ONLY_FILES):
        return []
    resolved = real(source)
    shown = source if resolved == source else f"{source} (really {resolved})"
    if resolved == "/":
        reason = f"{key} gives the container the whole disk of this machine ({shown}) at {target}"
        return [host_access("root_bind", key, source, reason, service, explicit=True)]
    hit = _guarded(resolved, ctx)
    if hit is not None:
        code, guarded = hit
        reason = f"{key} gives the container {shown} at {target}: it holds {WHAT.get(code, code)} ({guarded})"
        return [host_access(code, key, source, reason, service, explicit=True)]
    reason = f"{key} gives the container the host folder {shown} at {target}, outside the app's own folder"
    return [host_access(_code(resolved, ctx), key, source, reason, service)]


def _guarded(path: str, ctx: Context) -> tuple[str, str] | None:
    """The protected folder a resolved path touches: one it lies in first (the code dir before the data dir in it),
    else one it contains. Other apps' folders and writable roots below a protected folder are carved out of it."""
    carved = (*_roots(ctx), *([real(ctx.apps_root)] if ctx.apps_root else []))
    hits = [(code, guarded) for code, guarded in ctx.protected if _touches(path, real(guarded), carved)]
    inner = [hit for hit in hits if inside(path, real(hit[1]))]
    return (inner or hits or [None])[0]


def _code(path: str, ctx: Context) -> str:
    if ctx.apps_root and inside(path, real(ctx.apps_root)):
        return "other_app_folder"
    return "system_bind" if any(inside(path, d) for d in SYSTEM_DIRS) else "host_folder"


def _roots(ctx: Context) -> tuple[str, ...]:
    return tuple(real(r) for r in (ctx.app_data, *ctx.writable_roots) if r)


def _protected_paths(ctx: Context) -> tuple[str, ...]:
    return tuple(real(p) for _code, p in ctx.protected)


def _touches(path: str, guarded: str, roots: tuple[str, ...]) -> bool:
    """`path` lies in `guarded` (unless through an allowed root carved out below it) or contains it."""
    if inside(guarded, path):
        return True
    if not inside(path, guarded):
        return False
    carved = [r for r in roots if r != guarded and inside(r, guarded) and inside(path, r)]
    return not carved
