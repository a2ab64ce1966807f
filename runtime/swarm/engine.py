"""SwarmEngine: the engine interface over Docker Swarm mode; a "container" is a replicated service of one task.

Talks to a manager's Docker API only: there is no agent of ours on the other nodes. Images, pulls and the
version are this node's (inherited from DockerEngine); each node pulls an image itself when a task starts there.
Stats, counters and exec reach a task's container only when it runs on the node we talk to.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from runtime import errors as E
from runtime import labels as L
from runtime.base import ContainerCounters, ContainerInfo, ContainerStats, LabelFilter, NetworkInfo
from runtime.docker import DockerExec, logs_stream
from runtime.payload import DEFAULT_PIDS_LIMIT, network_body
from runtime.specs import ContainerSpec, NetworkSpec, VolumeSpec
from runtime.swarm import tasks as T
from runtime.swarm.api import POLL, STOP_MARGIN, service_name, task_state, task_words
from runtime.swarm.events import Seen, SwarmEvents
from runtime.swarm.placement import Placement
from runtime.swarm.translate import config_body, config_name, file_kind, refuse_unsupported, service_spec
from runtime.swarm.volumes import HELPER_IMAGE, HELPER_SOCKET, JOB_LABEL, SwarmVolumes

log = logging.getLogger(__name__)
START_TIMEOUT = 300.0  # seconds a start may take: the node pulls the image first
NETWORK_DRIVERS = ("", "bridge", "overlay")  # network drivers an app network may ask for on the swarm
_PORT_TAKEN = "host-mode port already in use"


class SwarmEngine(SwarmVolumes):
    """The same Engine interface; create/start/stop act on Swarm services, each a container of the app."""

    def __init__(
        self,
        url: str,
        *,
        placement: Placement = Placement(),
        pids_limit: int | None = DEFAULT_PIDS_LIMIT,
        helper_image: str = HELPER_IMAGE,
        helper_socket: str = HELPER_SOCKET,
        start_timeout: float = START_TIMEOUT,
        timeout: float = 120,
    ) -> None:
        super().__init__(
            url, helper_image=helper_image, helper_socket=helper_socket, timeout=timeout, pids_limit=pids_limit
        )
        self.placement = placement
        self.start_timeout = start_timeout
        self._local = threading.local()  # one engine serves every install of a worker: each thread its listener

    @property
    def on_task(self) -> Callable[[T.TaskInfo], None] | None:
        """Told each new state of a task a start in this thread waits for (preparing = the node pulls the image,
        starting, ...): the install's progress on another node, where no pull of ours reports bytes."""
        return getattr(self._local, "on_task", None)

    @on_task.setter
    def on_task(self, listener: Callable[[T.TaskInfo], None] | None) -> None:
        self._local.on_task = listener

    # ------------------------------------------------------------------------ containers as services
    def create(self, spec: ContainerSpec) -> str:
        """Create the service with no task (a created container) and its config files; undone on failure."""
        refuse_unsupported(spec)
        configs = self._configs_create(spec)
        try:
            body = service_spec(
                spec,
                constraints=self._constraints(spec),
                configs=configs,
                volumes=self._volume_specs(spec),
                pids_limit=self.pids_limit,
            )
            return self._json("POST", "/services/create", body=body)["ID"]
        except E.EngineError:
            self._configs_remove(_files_made(spec, configs))
            raise

    def _constraints(self, spec: ContainerSpec) -> list[str]:
        """The placement's constraints; bind folders live on this box, so an app using them runs here."""
        found = self.placement.constraints()
        if not self.placement.node and any(m.type == "bind" for m in spec.mounts):
            found.append(f"node.id=={self.node_id()}")
        return found

    def _volume_specs(self, spec: ContainerSpec) -> dict[str, VolumeSpec]:
        """The named volumes of `spec` with their labels: as create_volume was told, else the app's own naming."""
        project = spec.labels.get(L.PROJECT, "")
        found = {}
        for m in spec.mounts:
            if m.type != "volume" or not m.source:
                continue
            known = self._volumes.get(m.source)
            if known is None and project and m.source.startswith(f"{project}_"):
                key = m.source.removeprefix(f"{project}_")
                known = VolumeSpec(name=m.source, key=key, labels=L.volume_labels(project, key))
            if known is not None:
                found[m.source] = known
        return found

    def _configs_create(self, spec: ContainerSpec) -> dict[str, str]:
        """One Swarm config (or secret) per file (name -> id); one left by an earlier attempt is reused."""
        made: dict[str, str] = {}
        try:
            for index, file in enumerate(spec.files):
                name = config_name(spec.name, index, file)
                made[name] = self._config_create(file_kind(file), name, config_body(name, file, spec.labels, spec.name))
        except E.EngineError:
            self._configs_remove(_files_made(spec, made))
            raise
        return made

    def _config_create(self, kind: str, name: str, body: dict) -> str:
        try:
            return self._json("POST", f"/{kind}/create", body=body)["ID"]
        except E.Conflict:  # same name, so same content (the name holds its digest)
            return self._json("GET", f"/{kind}/{{0}}", name)["ID"]

    def _configs_remove(self, made: list[tuple[str, str]]) -> None:
        """Remove configs and secrets (kind, id); one still in use (by a renamed copy of the service) stays."""
        for kind, object_id in made:
            with contextlib.suppress(E.NotFound, E.Conflict, E.InvalidSpec):
                self._json("DELETE", f"/{kind}/{{0}}", object_id)

    def start(self, ref: str) -> None:
        """Scale to one task and wait until it runs (or waits for its first health check); the task's own error
        when it fails or is rejected, PortInUse when no node has its host port free."""
        service = self._service(ref)
        tasks = self._tasks(service["ID"])
        if T.replicas(service) == 1 and any(task_state(t) in T.UP for t in tasks):
            return  # already running: like starting a running container
        self._scale(service["ID"], 1)
        self._await_task(service, {t["ID"] for t in tasks if task_state(t) in T.ENDED})  # a waiting task counts

    def _scale(self, ref: str, count: int) -> None:
        self._update(ref, lambda spec: spec.update(Mode={"Replicated": {"Replicas": count}}))

    def _await_task(self, service: dict, before: set[str]) -> None:
        """Wait until a task newer than `before` runs; pin the volumes to its node then."""
        deadline = time.monotonic() + self.start_timeout
        health = T.has_healthcheck(service)
        told = ("", "")
        while True:
            fresh = [t for t in self._tasks(service["ID"]) if t["ID"] not in before]
            task = fresh[0] if fresh else None
            if task is not None and (task["ID"], task_state(task)) != told:
                told = (task["ID"], task_state(task))
                self._tell(service, task)
            if task is not None and _started(task, health=health):
                self._pin_volumes(service, task)
                return
            if task is not None:
                self._refuse_failed(service, task)
            self._refuse_node_down(service, task)
            if time.monotonic() > deadline:
                raise E.EngineError.worded(
                    "%(name)s did not start within %(seconds)s seconds (%(state)s)",
                    name=service_name(service),
                    seconds=int(self.start_timeout),
                    state=task_words(task) if task else "no task yet",
                )
            time.sleep(POLL)

    def _tell(self, service: dict, task: dict) -> None:
        """Pass a task's new state to `on_task`; a listener's failure is logged, never the start's."""
        if self.on_task is None:
            return
        try:
            self.on_task(T.task_from_raw(task, service=service_name(service), hostnames=self._hostnames_for([task])))
        except Exception:
            log.exception("the task listener of %s failed", service_name(service))

    def _refuse_failed(self, service: dict, task: dict) -> None:
        """A task that failed, was rejected, or finds no node with its port free: back to 0 tasks, and say why."""
        status = task.get("Status") or {}
        taken = _PORT_TAKEN in status.get("Err", "") + status.get("Message", "")
        if task_state(task) not in T.FAILED and not taken:
            return
        self._scale(service["ID"], 0)
        error = E.PortInUse if taken else E.EngineError
        raise error.worded(
            "%(name)s could not start: %(error)s",
            name=service_name(service),
            error=status.get("Err") or task_words(task),
        )

    def _refuse_node_down(self, service: dict, task: dict | None) -> None:
        """The node the task was given to, or the one the service is pinned to, is down: Swarm would hold the task
        until the node is back, and the start would wait for nothing. Back to 0 tasks, and say which node."""
        node_id = (task or {}).get("NodeID") or _pinned_node(service)
        if not node_id:
            return
        try:
            node = self._json("GET", "/nodes/{0}", node_id)
        except E.NotFound:
            return  # a node removed meanwhile: the task's own state says what happens next
        if (node.get("Status") or {}).get("State") != "down":
            return
        self._scale(service["ID"], 0)
        raise E.EngineError.worded(
            "%(node)s is down: %(name)s cannot start there until it is back",
            node=(node.get("Description") or {}).get("Hostname") or node_id,
            name=service_name(service),
        )

    def _pin_volumes(self, service: dict, task: dict) -> None:
        """Named volumes live on the node that made them: once the first task runs, the service stays there."""
        mounts = (service["Spec"]["TaskTemplate"].get("ContainerSpec") or {}).get("Mounts") or []
        constraints = (service["Spec"]["TaskTemplate"].get("Placement") or {}).get("Constraints") or []
        if not any(m.get("Type") == "volume" and m.get("Source") for m in mounts):
            return
        if any(c.replace(" ", "").startswith("node.id==") for c in constraints) or not task.get("NodeID"):
            return
        pin = f"node.id=={task['NodeID']}"
        self._update(service["ID"], lambda spec: _add_constraint(spec, pin))

    def stop(self, ref: str, *, timeout: float | None = None) -> None:
        """Scale to no task and wait until none runs. The grace period is the spec's (a service keeps its own:
        changing it would change the task template); `timeout` only bounds the wait."""
        service = self._service(ref)
        self._scale(service["ID"], 0)
        grace = (service["Spec"]["TaskTemplate"].get("ContainerSpec") or {}).get("StopGracePeriod") or 10e9
        limit = (timeout if timeout is not None else grace / 1e9) + STOP_MARGIN
        self._await_down(service, time.monotonic() + limit)

    def _await_down(self, service: dict, deadline: float) -> None:
        while any(task_state(t) not in T.ENDED for t in self._tasks(service["ID"])):
            if time.monotonic() > deadline:
                raise E.EngineError.worded("%(name)s did not stop in time", name=service_name(service))
            time.sleep(POLL)

    def halt(self, ref: str) -> None:
        """Stop for good: a service with no task is not restarted by Swarm."""
        self.stop(ref)

    def restart_policy_set(self, ref: str, policy: str) -> bool:
        """Swarm cannot change a restart policy without replacing the task; a halted service is at 0 tasks
        anyway, and its policy comes back with it."""
        return False

    def restart(self, ref: str, *, timeout: float | None = None) -> None:
        """A forced update (a new task from the same spec), scaled to one task, waited for like a start."""
        service = self._service(ref)
        before = {t["ID"] for t in self._tasks(service["ID"])}

        def force(spec: dict) -> None:
            spec["TaskTemplate"]["ForceUpdate"] = int(spec["TaskTemplate"].get("ForceUpdate") or 0) + 1
            spec["Mode"] = {"Replicated": {"Replicas": 1}}

        self._update(service["ID"], force)
        self._await_task(service, before)

    def remove(self, ref: str, *, force: bool = False, volumes: bool = False) -> None:
        """Remove the service (Swarm stops its task first) and its configs, and wait until its tasks are gone, so
        its networks can go next. A running service without `force` is a Conflict, as for a container."""
        service = self._service(ref)
        tasks = self._tasks(service["ID"])
        if not force and any(task_state(t) in T.UP for t in tasks):
            raise E.Conflict.worded("%(name)s is running: stop it first", name=service_name(service))
        made = _files_of(service)
        self._json("DELETE", "/services/{0}", service["ID"])
        self._await_gone(service)
        self._configs_remove(made)

    def rename(self, ref: str, name: str) -> None:
        """Swarm cannot rename a service: a copy under the new name replaces it (same spec, labels, configs and
        task count; a new id). Renaming it to its own name does nothing."""
        service = self._service(ref)
        if service_name(service) == name:
            return
        spec = copy.deepcopy(service["Spec"])
        spec["Name"] = name
        self._json("POST", "/services/create", body=spec)
        self._json("DELETE", "/services/{0}", service["ID"])
        self._await_gone(service)

    def wait(self, ref: str, *, timeout: float | None = None) -> int:
        """Until the service's task has ended; its exit code."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            info = self.inspect(ref)
            if info.state == "exited":
                return info.exit_code or 0
            if deadline is not None and time.monotonic() > deadline:
                raise E.EngineError.worded("%(name)s is still running", name=info.name)
            time.sleep(POLL)

    def inspect(self, ref: str) -> ContainerInfo:
        """The service in container words, from its newest task (health from the container when it is here)."""
        service = self._service(ref)
        tasks = self._tasks(service["ID"])
        return T.container_from_service(
            service, tasks, hostnames=self._hostnames_for(tasks), health=self._local_health(tasks)
        )

    def _local_health(self, tasks: list[dict]) -> str | None:
        """The running task container's health when it runs on this node (the image's own check counts too)."""
        container = self._local_container(tasks)
        if not container:
            return None
        try:
            return super().inspect(container).health
        except E.NotFound:
            return None

    def _local_container(self, tasks: list[dict]) -> str:
        """The id of the service's running container when it runs on the node we talk to, else ""."""
        for task in tasks:
            if task_state(task) in T.UP and task.get("NodeID") == self.node_id():
                return ((task.get("Status") or {}).get("ContainerStatus") or {}).get("ContainerID", "")
        return ""

    def list(self, labels: LabelFilter, *, all: bool = True) -> list[ContainerInfo]:
        """Services carrying all the given labels (running ones only unless `all`); helper jobs are not apps."""
        services = [s for s in self._services(labels) if JOB_LABEL not in (s["Spec"].get("Labels") or {})]
        tasks = self._tasks(*(s["ID"] for s in services))
        hostnames = self._hostnames_for(tasks)
        found = [
            T.container_from_service(s, [t for t in tasks if t.get("ServiceID") == s["ID"]], hostnames=hostnames)
            for s in services
        ]
        return [c for c in found if all or c.running]

    def tasks(self, ref: str) -> list[T.TaskInfo]:
        """The service's tasks, newest first, with the hostname of each one's node."""
        service = self._service(ref)
        tasks = self._tasks(service["ID"])
        hostnames = self._hostnames_for(tasks)
        return [T.task_from_raw(t, service=service_name(service), hostnames=hostnames) for t in tasks]

    def container_config(self, ref: str) -> dict:
        """A container inspect document made from the service (what the apps code reads of one): image, config,
        mounts, restart policy and the failed tasks since it was started."""
        service = self._service(ref)
        tasks = self._tasks(service["ID"])
        local = self._local_container(tasks)
        image = super().container_config(local).get("Image", "") if local else ""
        return T.inspect_document(service, tasks, image=image)

    def logs(
        self, ref: str, *, follow: bool = False, tail: int | None = None, timestamps: bool = False
    ) -> Iterator[str]:
        """The service's log (Swarm gathers it from whichever node runs the task)."""
        service = self._service(ref)
        tty = bool((service["Spec"]["TaskTemplate"].get("ContainerSpec") or {}).get("TTY"))
        params = {
            "stdout": 1,
            "stderr": 1,
            "follow": int(follow),
            "timestamps": int(timestamps),
            "tail": "all" if tail is None else tail,
        }
        return logs_stream(self.api, f"/services/{service['ID']}/logs", params, tty=tty)

    def _here(self, ref: str) -> str:
        """The running container of a service on this node; a clear error when it runs elsewhere or not at all."""
        service = self._service(ref)
        tasks = self._tasks(service["ID"])
        container = self._local_container(tasks)
        if container:
            return container
        running = [t for t in tasks if task_state(t) in T.UP]
        if not running:
            raise E.Conflict.worded("%(name)s is not running", name=service_name(service))
        raise E.EngineError.worded(
            "this is not available for an app running on another node (%(node)s)",
            node=self._hostnames_for(running).get(running[0].get("NodeID", ""), "?"),
            permanent=True,
        )

    def stats(self, ref: str) -> ContainerStats:
        """One sample of the task's container, when it runs on this node."""
        return super().stats(self._here(ref))

    def counters(self, ref: str) -> ContainerCounters:
        """Cumulative counters of the task's container, when it runs on this node."""
        return super().counters(self._here(ref))

    def exec(
        self,
        ref: str,
        cmd: list[str],
        *,
        tty: bool = True,
        user: str = "",
        workdir: str = "",
        env: Mapping[str, str] | None = None,
    ) -> DockerExec:
        """A process in the task's container, when it runs on this node."""
        return super().exec(self._here(ref), cmd, tty=tty, user=user, workdir=workdir, env=env)

    def events(
        self, *, labels: LabelFilter | None = None, since: datetime | None = None, until: datetime | None = None
    ) -> SwarmEvents:
        """Events made from the task states (see runtime.swarm.events); `since` cannot replay the past."""
        return SwarmEvents(lambda: self._seen(labels), until=until)

    def _seen(self, labels: LabelFilter | None) -> dict[str, Seen]:
        """Every service with the labels as the event stream compares them between two polls."""
        services = [s for s in self._services(labels) if JOB_LABEL not in (s["Spec"].get("Labels") or {})]
        tasks = self._tasks(*(s["ID"] for s in services))
        return {s["ID"]: _seen(s, [t for t in tasks if t.get("ServiceID") == s["ID"]]) for s in services}

    # ------------------------------------------------------------------------ networks
    def create_network(self, spec: NetworkSpec) -> str:
        """An attachable overlay network (an app's bridge network on one box spans the nodes here)."""
        if spec.driver not in NETWORK_DRIVERS:
            raise E.InvalidSpec.worded(
                "the network %(name)s asks for the %(driver)s driver; on a swarm an app's networks are overlay "
                "networks",
                name=spec.name,
                driver=spec.driver,
            )
        body = network_body(spec)
        res = self._network_create(
            body["Name"],
            driver="overlay",
            options=body["Options"] or None,
            ipam=body.get("IPAM"),
            check_duplicate=True,
            internal=body["Internal"],
            labels=body["Labels"],
            enable_ipv6=body["EnableIPv6"],
            attachable=True,
            scope="swarm",
        )
        return res["Id"]

    def list_networks(self, labels: LabelFilter) -> list[NetworkInfo]:
        """As on one box. Docker reads a swarm network's driver from the manager's allocation of it, so a network
        just made lists with driver "" for a moment; every app network here is made an overlay one."""
        return [replace(n, driver=n.driver or "overlay") for n in super().list_networks(labels)]

    # ------------------------------------------------------------------------ volumes


def _started(task: Mapping[str, Any], *, health: bool) -> bool:
    """Whether the task's container got going: it runs (or awaits its first health check), or it already ended
    on its own (a one-shot service, or a crash its restart policy deals with, as `docker start` returns then too)."""
    state = task_state(task)
    if state == "running" or state == "complete" or (health and state == "starting"):
        return True
    return state == "failed" and (task.get("Status") or {}).get("Err", "").startswith("task: non-zero exit")


def _files_made(spec: ContainerSpec, made: Mapping[str, str]) -> list[tuple[str, str]]:
    """(kind, id) of the configs and secrets made so far for `spec`'s files."""
    names = [(file_kind(f), config_name(spec.name, i, f)) for i, f in enumerate(spec.files)]
    return [(kind, made[name]) for kind, name in names if name in made]


def _files_of(service: dict) -> list[tuple[str, str]]:
    """(kind, id) of the configs and secrets a service mounts."""
    container = service["Spec"]["TaskTemplate"].get("ContainerSpec") or {}
    configs = [("configs", c["ConfigID"]) for c in container.get("Configs") or [] if c.get("ConfigID")]
    return configs + [("secrets", c["SecretID"]) for c in container.get("Secrets") or [] if c.get("SecretID")]


def _pinned_node(service: dict) -> str:
    """The node a `node.id==<id>` constraint pins the service to (a chosen node, bind folders, volumes), or ""."""
    constraints = (service["Spec"]["TaskTemplate"].get("Placement") or {}).get("Constraints") or []
    for constraint in constraints:
        key, sep, value = constraint.replace(" ", "").partition("==")
        if sep and key == "node.id":
            return value
    return ""


def _add_constraint(spec: dict, constraint: str) -> None:
    placement = spec["TaskTemplate"].setdefault("Placement", {})
    placement["Constraints"] = [*(placement.get("Constraints") or []), constraint]


def _seen(service: dict, tasks: list[dict]) -> Seen:
    state, _code = T.state_of(service, tasks)
    ended = [t for t in tasks if task_state(t) in T.ENDED]
    running = [t for t in tasks if task_state(t) == "running"]
    return Seen(
        state=state,
        task=running[0]["ID"] if running else "",
        exit_code=T.exit_code(ended[0]) if ended else None,
        name=service_name(service),
        image=T.image_of(service),
        labels=dict(service["Spec"].get("Labels") or {}),
    )
