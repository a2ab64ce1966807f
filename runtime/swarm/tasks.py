"""Swarm tasks -> TaskInfo, and a service's state in container words (the task state is the truth).

A "container" of a SwarmEngine is a replicated service of one task; its state is read from its newest task:
new..starting is "created" (or "restarting" when the task before it failed), running is "running", and a task
that ended is "exited" with its container's exit code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runtime.base import ContainerInfo, PortBinding

STARTING = ("new", "allocated", "pending", "assigned", "accepted", "preparing", "ready", "starting")
ENDED = ("complete", "failed", "shutdown", "rejected", "orphaned", "remove")
FAILED = ("failed", "rejected")
UP = ("starting", "running")  # a container exists and runs (starting: waiting for its first health check)


@dataclass(frozen=True)
class TaskInfo:
    """One task of a service: where it runs (node hostname, "" while unassigned) and how far it got."""

    id: str
    service: str  # the service's name
    node_id: str
    node: str
    state: str  # new, pending, assigned, accepted, preparing, ready, starting, running, complete, failed, ...
    desired_state: str
    message: str = ""
    error: str = ""
    container_id: str = ""
    updated: str = ""


def stamp(text: str) -> str:
    """An API timestamp that sorts as text: Go drops trailing zeros of the fraction, so it is padded back."""
    head, _dot, rest = (text or "").partition(".")
    fraction = rest.rstrip("Z").split("+")[0]
    return f"{head}.{fraction.ljust(9, '0')}"


def newest_first(raw_tasks: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Tasks by creation, newest first (the API lists them in no promised order)."""
    return sorted(raw_tasks, key=lambda t: stamp(t.get("CreatedAt", "")), reverse=True)


def task_from_raw(raw: Mapping[str, Any], *, service: str, hostnames: Mapping[str, str]) -> TaskInfo:
    """GET /tasks row -> TaskInfo, the node's id resolved to its hostname."""
    status = raw.get("Status") or {}
    node_id = raw.get("NodeID") or ""
    return TaskInfo(
        id=raw.get("ID", ""),
        service=service,
        node_id=node_id,
        node=hostnames.get(node_id, ""),
        state=status.get("State", ""),
        desired_state=raw.get("DesiredState", ""),
        message=status.get("Message", ""),
        error=status.get("Err", ""),
        container_id=(status.get("ContainerStatus") or {}).get("ContainerID", ""),
        updated=raw.get("UpdatedAt", ""),
    )


def replicas(service: Mapping[str, Any]) -> int:
    """How many tasks the service asks for (0: stopped, 1: started)."""
    return int((((service.get("Spec") or {}).get("Mode") or {}).get("Replicated") or {}).get("Replicas") or 0)


def exit_code(task: Mapping[str, Any]) -> int | None:
    """The task container's exit code; -1 for a task that failed without one (rejected: it never ran)."""
    status = task.get("Status") or {}
    code = (status.get("ContainerStatus") or {}).get("ExitCode")
    if code is None and status.get("State") in FAILED:
        return -1
    return code


def state_of(service: Mapping[str, Any], tasks: Sequence[Mapping[str, Any]]) -> tuple[str, int | None]:
    """(container state, exit code) of a service from its tasks, newest first."""
    if not tasks:
        # Swarm forgets the tasks of a service scaled to 0: one that was ever started (scaling up was its first
        # update, so it has a previous spec) is stopped; one never started was only created.
        return ("exited" if "PreviousSpec" in service else "created"), None
    newest = tasks[0]
    state = (newest.get("Status") or {}).get("State", "")
    if state == "running":
        return "running", None
    if state in STARTING:
        before = (tasks[1].get("Status") or {}).get("State", "") if len(tasks) > 1 else ""
        return ("restarting" if before in FAILED else "created"), None
    return "exited", exit_code(newest)


def has_healthcheck(service: Mapping[str, Any]) -> bool:
    """Whether the service's spec carries a health check of its own (not one turned off with NONE)."""
    test = (_container_spec(service).get("HealthCheck") or {}).get("Test") or []
    return bool(test) and test[0] != "NONE"


def health_of(service: Mapping[str, Any], tasks: Sequence[Mapping[str, Any]]) -> str:
    """Swarm holds a task in "starting" until its first health check passes and replaces an unhealthy one, so
    a running task with a health check is healthy (the image's own check is read from the container instead)."""
    if not tasks or not has_healthcheck(service):
        return ""
    state = (tasks[0].get("Status") or {}).get("State", "")
    return {"starting": "starting", "running": "healthy"}.get(state, "")


def ports_of(service: Mapping[str, Any], tasks: Sequence[Mapping[str, Any]]) -> tuple[PortBinding, ...]:
    """Published ports: the running task's (the host port really bound), else the ones the spec asks for."""
    running = [t for t in tasks if (t.get("Status") or {}).get("State") == "running"]
    if running:
        rows = ((running[0].get("Status") or {}).get("PortStatus") or {}).get("Ports") or []
    else:
        rows = ((service.get("Spec") or {}).get("EndpointSpec") or {}).get("Ports") or []
    found = (
        PortBinding(int(p["TargetPort"]), p.get("Protocol", "tcp"), "", int(p["PublishedPort"]))
        for p in rows
        if p.get("PublishedPort")
    )
    return tuple(dict.fromkeys(found))  # a task lists a port once per address family it listens on


def image_of(service: Mapping[str, Any]) -> str:
    """The image as the app names it: a digest Swarm pinned after a tag is left out."""
    image = _container_spec(service).get("Image", "")
    name, at, _digest = image.partition("@")
    return name if at and ":" in name.rsplit("/", 1)[-1] else image


def status_text(state: str, tasks: Sequence[Mapping[str, Any]], hostnames: Mapping[str, str]) -> str:
    """Human text: the task's state, its node and what Swarm says about it ("no suitable node ...")."""
    if not tasks:
        return state
    status = tasks[0].get("Status") or {}
    node = hostnames.get(tasks[0].get("NodeID") or "", "")
    words = [status.get("State", state), f"on {node}" if node else "", status.get("Err") or status.get("Message", "")]
    return " ".join(w for w in words if w)


def container_from_service(
    service: Mapping[str, Any],
    tasks: Sequence[Mapping[str, Any]],
    *,
    hostnames: Mapping[str, str],
    health: str | None = None,
) -> ContainerInfo:
    """A service and its tasks (newest first) in container words; `health` from the container where it is known."""
    state, code = state_of(service, tasks)
    spec = service.get("Spec") or {}
    return ContainerInfo(
        id=service.get("ID", ""),
        name=spec.get("Name", ""),
        image=image_of(service),
        state=state,
        status=status_text(state, tasks, hostnames),
        health=health_of(service, tasks) if health is None else health,
        exit_code=code,
        labels=dict(spec.get("Labels") or {}),
        ports=ports_of(service, tasks),
        created=str(service.get("CreatedAt", "")),
    )


def _container_spec(service: Mapping[str, Any]) -> Mapping[str, Any]:
    return ((service.get("Spec") or {}).get("TaskTemplate") or {}).get("ContainerSpec") or {}


_POLICIES = {"none": "no", "on-failure": "on-failure", "any": "always"}


def restart_count(tasks: Sequence[Mapping[str, Any]]) -> int:
    """Failed tasks in a row up to the newest one: how often Swarm restarted the app since it last ran well."""
    count = 0
    for task in tasks:
        state = (task.get("Status") or {}).get("State", "")
        if state in FAILED:
            count += 1
        elif state not in STARTING:
            break
    return count


def inspect_document(service: Mapping[str, Any], tasks: Sequence[Mapping[str, Any]], *, image: str) -> dict[str, Any]:
    """The parts of a container inspect document the apps code reads, made from a service and its tasks."""
    spec = service.get("Spec") or {}
    container = _container_spec(service)
    restart = (spec.get("TaskTemplate") or {}).get("RestartPolicy") or {}
    state, code = state_of(service, tasks)
    return {
        "Id": service.get("ID", ""),
        "Name": "/" + spec.get("Name", ""),
        "Image": image,
        "Config": {
            "Image": container.get("Image", ""),
            "Labels": dict(container.get("Labels") or {}),
            "Env": list(container.get("Env") or []),
            "Cmd": container.get("Args"),
            "Entrypoint": container.get("Command"),
            "Healthcheck": dict(container.get("HealthCheck") or {}),
        },
        "HostConfig": {
            "RestartPolicy": {
                "Name": _POLICIES.get(restart.get("Condition", "any"), "always"),
                "MaximumRetryCount": int(restart.get("MaxAttempts") or 0),
            }
        },
        "RestartCount": restart_count(tasks),
        "State": {"Status": state, "ExitCode": code or 0},
        "Mounts": [_mount_row(m) for m in container.get("Mounts") or []],
    }


def _mount_row(mount: Mapping[str, Any]) -> dict[str, Any]:
    """A service mount as a container inspect lists it."""
    return {
        "Type": mount.get("Type", ""),
        "Name": mount.get("Source", "") if mount.get("Type") == "volume" else "",
        "Source": mount.get("Source", ""),
        "Destination": mount.get("Target", ""),
        "RW": not mount.get("ReadOnly", False),
    }
