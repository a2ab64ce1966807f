"""Containers we did not create: listed apart, started and stopped, and adopted as a custom app.

Adopting describes the container as a compose service (image, command, env, ports, mounts, restart policy, limits),
stops the original (kept, so nothing is lost if the new app fails) and installs the description through the
ordinary install path, with its validation, risk report and consent.
"""

import re
from typing import Any

from accounts.services import audit_record
from casaos_site.i18n import deferred
from runtime import ContainerInfo, Engine
from runtime import labels as L
from runtime.errors import NotFound

from ..models import Installation
from .common import InstallError, engine
from .install import app_install
from .settings_edit import compose_dump

_ANONYMOUS = re.compile(r"^[0-9a-f]{64}$")


SWARM_TASK = "com.docker.swarm.task.id"  # Docker's label on a container that runs a Swarm task


def foreign_list(*, eng: Engine | None = None) -> list[ContainerInfo]:
    """Every container without our app label, by name; a Swarm task's container is the swarm's (its service says
    what it is), not one to start, stop or adopt here."""
    eng = eng or engine()
    return sorted(
        (c for c in eng.list({}) if L.APP not in c.labels and SWARM_TASK not in c.labels), key=lambda c: c.name
    )


def foreign_get(*, container_id: str, eng: Engine | None = None) -> ContainerInfo:
    """One foreign container; one of our apps' containers is refused here, whatever id is passed."""
    eng = eng or engine()
    try:
        info = eng.inspect(container_id)
    except NotFound:
        raise InstallError(deferred("There is no such container."), code="missing") from None
    if L.APP in info.labels:
        raise InstallError(deferred("This container belongs to an app; use the app's page."), code="ours")
    if SWARM_TASK in info.labels:
        raise InstallError(
            deferred("This container runs a task of a swarm service; the swarm manages it."), code="swarm"
        )
    return info


def foreign_control(*, user, container_id: str, action: str, request=None) -> ContainerInfo:
    """Start or stop a foreign container (quick engine calls: no task needed)."""
    eng = engine()
    info = foreign_get(container_id=container_id, eng=eng)
    if action == "start":
        eng.start(info.id)
    elif action == "stop":
        eng.stop(info.id)
    else:
        raise InstallError(deferred("Unknown action %(action)s.", action=action), code="action")
    audit_record(actor=user, action=f"container.{action}", request=request, target=info.name)
    return eng.inspect(info.id)


def foreign_compose(*, container_id: str, eng: Engine | None = None) -> str:
    """The container described as a one-service compose document."""
    eng = eng or engine()
    info = foreign_get(container_id=container_id, eng=eng)
    return compose_dump(describe(eng.container_config(info.id), service=_service_name(info.name)))


def foreign_adopt(
    *,
    user,
    container_id: str,
    name: str = "",
    consent: bool = False,
    override_limits: bool = False,
    consent_paths=(),
    request=None,
) -> Installation:
    """Stop the container and install its description as a custom app (the original is kept, stopped).

    The container's own volumes become the app's without a consent (they are what is adopted); anything else it
    has (host folders, privileges) goes through the policy like any install, and its limits are bound like any
    install's (`override_limits`: an admin allows more than this machine has)."""
    eng = engine()
    info = foreign_get(container_id=container_id, eng=eng)
    compose = foreign_compose(container_id=info.id, eng=eng)
    held = [f"foreign_volume:{m['Name']}" for m in info_mounts(eng, info.id) if m.get("Type") == "volume"]
    was_running = info.running
    if was_running:
        eng.stop(info.id)  # frees its ports for the new container
    try:
        inst = app_install(
            user=user,
            compose=compose,
            name=name or None,
            consent=consent,
            override_limits=override_limits,
            consent_paths=consent_paths,
            held=held,
            request=request,
        )
    except InstallError:
        if was_running:
            eng.start(info.id)
        raise
    audit_record(actor=user, action="container.adopt", request=request, target=info.name, details={"app": inst.name})
    return inst


def info_mounts(eng: Engine, ref: str) -> list[dict]:
    """The container's mounts as the engine reports them."""
    return list(eng.container_config(ref).get("Mounts") or [])


def describe(raw: dict[str, Any], *, service: str) -> dict[str, Any]:
    """Engine inspect JSON -> {"services": {service: ...}, "volumes": ...}; volumes stay the very same volumes."""
    config, host = raw.get("Config") or {}, raw.get("HostConfig") or {}
    svc: dict[str, Any] = {"image": config.get("Image", "")}
    if config.get("Entrypoint"):
        svc["entrypoint"] = list(config["Entrypoint"])
    if config.get("Cmd"):
        svc["command"] = list(config["Cmd"])
    env = dict(item.partition("=")[::2] for item in config.get("Env") or [])
    if env:
        svc["environment"] = {k: v.replace("$", "$$") for k, v in env.items()}
    ports = [_port(key, bind) for key, binds in (host.get("PortBindings") or {}).items() for bind in binds or []]
    if ports:
        svc["ports"] = ports
    volumes, named = _mounts(raw.get("Mounts") or [])
    if volumes:
        svc["volumes"] = volumes
    policy = (host.get("RestartPolicy") or {}).get("Name") or "no"
    svc["restart"] = policy
    for key, compose_key in (("WorkingDir", "working_dir"), ("User", "user")):
        if config.get(key):
            svc[compose_key] = config[key]
    svc.update(_limits(host))
    if host.get("Privileged"):
        svc["privileged"] = True
    if host.get("NetworkMode") == "host":
        svc["network_mode"] = "host"
    tree: dict[str, Any] = {"services": {service: svc}}
    if named:
        tree["volumes"] = {key: {"external": True, "name": real} for key, real in named.items()}
    return tree


def _limits(host: dict[str, Any]) -> dict[str, Any]:
    """The memory, CPU and process limits it was given (0 and -1 are none: the install's bounds and default apply)."""
    limits = {"mem_limit": host.get("Memory"), "pids_limit": host.get("PidsLimit")}
    limits["cpus"] = round(host["NanoCpus"] / 1e9, 3) if host.get("NanoCpus") else None
    return {key: value for key, value in limits.items() if value and value > 0}


def _port(key: str, bind: dict) -> str:
    target, _sep, protocol = key.partition("/")
    published = bind.get("HostPort") or ""
    ip = bind.get("HostIp") or ""
    text = f"{ip}:{published}:{target}" if ip and ip not in ("0.0.0.0", "::") else f"{published}:{target}"
    return f"{text}/{protocol}" if protocol and protocol != "tcp" else text


def _mounts(mounts: list[dict]) -> tuple[list[str], dict[str, str]]:
    """Binds as they are; volumes (anonymous ones too) as external volumes, so the app keeps the same data."""
    volumes, named = [], {}
    for m in mounts:
        suffix = "" if m.get("RW", True) else ":ro"
        if m.get("Type") == "bind":
            volumes.append(f"{m['Source']}:{m['Destination']}{suffix}")
        elif m.get("Type") == "volume" and m.get("Name"):
            key = f"volume{len(named) + 1}" if _ANONYMOUS.match(m["Name"]) else m["Name"]
            named[key] = m["Name"]
            volumes.append(f"{key}:{m['Destination']}{suffix}")
    return volumes, named


def _service_name(container_name: str) -> str:
    name = re.sub(r"[^a-zA-Z0-9_.-]", "", container_name.lstrip("/")) or "app"
    return name if name[0].isalnum() else f"app{name}"
