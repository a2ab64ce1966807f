"""Named volumes on a swarm: made by the node running a task, listed and removed on every node by a helper.

Swarm has no cluster-wide volume and there is no agent of ours on the nodes, so what must happen on each node
runs as a one-shot global service of a Docker CLI image with that node's Docker socket.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator, Mapping
from typing import Any

from runtime import errors as E
from runtime import labels as L
from runtime.base import LabelFilter, VolumeInfo
from runtime.docker import _label_filters
from runtime.payload import DEFAULT_PIDS_LIMIT
from runtime.specs import VolumeSpec
from runtime.swarm.api import POLL, SwarmAPI, task_state, task_words
from runtime.swarm.tasks import ENDED

JOB_TIMEOUT = 120.0  # seconds a helper (on every node) may take
VOLUME_BUSY_WAIT = 30.0  # seconds a volume removal waits for the containers of removed services to go
HELPER_IMAGE = "docker:27-cli"
HELPER_SOCKET = "/var/run/docker.sock"  # on each node; Swarm expands templates such as {{.Node.Hostname}}
JOB_LABEL = "io.casaos.swarm.job"


class SwarmVolumes(SwarmAPI):
    """The volume part of the engine interface, and running a Docker CLI command on every node."""

    def __init__(
        self,
        url: str,
        *,
        helper_image: str = HELPER_IMAGE,
        helper_socket: str = HELPER_SOCKET,
        timeout: float = 120,
        pids_limit: int | None = DEFAULT_PIDS_LIMIT,
    ) -> None:
        super().__init__(url, timeout=timeout, pids_limit=pids_limit)
        self.helper_image = helper_image
        self.helper_socket = helper_socket
        self._volumes: dict[str, VolumeSpec] = {}  # asked for by create_volume: labels for the mounts

    def create_volume(self, spec: VolumeSpec) -> str:
        """Nothing is made now: the node that runs the task creates the volume from the mount, with these labels
        and driver (kept here for create()). There is no cluster-wide volume in Swarm."""
        self._volumes[spec.name] = spec
        return spec.name

    def list_volumes(self, labels: LabelFilter) -> list[VolumeInfo]:
        """Volumes with the labels on every node: the named volumes our services mount (from their specs), and
        what each available node holds (asked through a one-shot global service, as there is no agent of ours on the nodes).

        Without labels only the first two: the install only asks that to skip creating volumes that exist, and on
        the swarm the node running the task creates them anyway."""
        found = {v.name: v for v in super().list_volumes(labels)}
        for volume in self._declared_volumes(labels):
            found.setdefault(volume.name, volume)
        if labels:
            for volume in self._node_volumes(labels):
                found.setdefault(volume.name, volume)
        return list(found.values())

    def _declared_volumes(self, labels: LabelFilter) -> Iterator[VolumeInfo]:
        for service in self._services({L.MANAGED: "true"}):
            for m in (service["Spec"]["TaskTemplate"].get("ContainerSpec") or {}).get("Mounts") or []:
                volume = _declared_volume(m)
                if volume is not None and _matches(volume.labels, labels):
                    yield volume

    def _node_volumes(self, labels: LabelFilter) -> list[VolumeInfo]:
        """`docker volume ls` with the label filter on every node, one volume a line: driver, name, labels."""
        filters = [arg for key in _label_filters(labels) for arg in ("--filter", f"label={key}")]
        command = ["docker", "volume", "ls", *filters, "--format", "{{.Driver}}\t{{.Name}}\t{{.Labels}}"]
        lines = self.run_everywhere(command, what="list the volumes")
        return [_volume_line(line) for line in lines if line.count("\t") == 2]

    def remove_volume(self, name: str, *, force: bool = False) -> None:
        """Remove the volume on every node: a one-shot global service runs `docker volume rm` on each."""
        self._volumes.pop(name, None)
        deadline = time.monotonic() + VOLUME_BUSY_WAIT
        while True:
            try:
                self.run_everywhere(["docker", "volume", "rm", "-f", name], what=f"remove volume {name}")
                return
            except E.EngineError as exc:
                # A node removes a removed service's container a moment after the manager forgot its task.
                if "volume is in use" not in exc.message or time.monotonic() > deadline:
                    raise
            time.sleep(1)

    def run_everywhere(self, command: list[str], *, what: str) -> list[str]:
        """Run a Docker CLI command on every available node through a one-shot global service with the node's Docker socket;
        its output lines (of all nodes). The job is removed afterwards. EngineError with a node's words when
        it failed there."""
        body = _job_spec(f"casaos-job-{secrets.token_hex(5)}", self.helper_image, self.helper_socket, command)
        job = self._json("POST", "/services/create", body=body)
        try:
            failed = self._await_job(job["ID"], what)
            lines = [line for line in self.logs(job["ID"]) if line.strip()]
            if failed:
                raise E.EngineError.worded(
                    "could not %(what)s on every node: %(error)s", what=what, error=" / ".join(lines[-5:]) or failed
                )
            return lines
        finally:
            with contextlib.suppress(E.NotFound):
                self._json("DELETE", "/services/{0}", job["ID"])
                self._await_gone({"ID": job["ID"]})

    def _await_job(self, job: str, what: str) -> str:
        """Until each task of the job ended; the first failure's words ("" when all completed)."""
        deadline = time.monotonic() + JOB_TIMEOUT
        while True:
            tasks = self._tasks(job)
            if tasks and all(task_state(t) in ENDED for t in tasks):
                failed = [t for t in tasks if task_state(t) != "complete"]
                return task_words(failed[0]) if failed else ""
            if time.monotonic() > deadline:
                states = ", ".join(sorted({task_words(t) for t in tasks})) or "no task"
                raise E.EngineError.worded("could not %(what)s in time (%(states)s)", what=what, states=states)
            time.sleep(POLL)


def _declared_volume(mount: Mapping[str, Any]) -> VolumeInfo | None:
    """A named volume a service mounts, as the node creating it will label it."""
    if mount.get("Type") != "volume" or not mount.get("Source"):
        return None
    options = mount.get("VolumeOptions") or {}
    driver = (options.get("DriverConfig") or {}).get("Name") or "local"
    return VolumeInfo(name=mount["Source"], driver=driver, labels=dict(options.get("Labels") or {}))


def _volume_line(line: str) -> VolumeInfo:
    """One line of the job's `docker volume ls` (labels as the CLI joins them: k=v,k=v)."""
    driver, name, text = line.split("\t")
    labels = dict(item.partition("=")[::2] for item in text.split(",") if item)
    return VolumeInfo(name=name, driver=driver, labels=labels)


def _matches(labels: Mapping[str, str], wanted: LabelFilter) -> bool:
    return all(key in labels and (value is None or labels[key] == value) for key, value in wanted.items())


def _job_spec(name: str, image: str, socket: str, command: list[str]) -> dict[str, Any]:
    """A global service that is never restarted (one task on every available node, run once), with the node's
    Docker socket mounted. Not a global *job*: Docker 20.10 keeps a removed job's tasks and containers for good,
    and re-creates a rejected job task many times a second."""
    return {
        "Name": name,
        "Labels": {L.MANAGED: "true", JOB_LABEL: "helper"},
        "TaskTemplate": {
            "ContainerSpec": {
                "Image": image,
                "Command": command,
                "Labels": {L.MANAGED: "true", JOB_LABEL: "helper"},
                "Mounts": [{"Type": "bind", "Source": socket, "Target": "/var/run/docker.sock"}],
            },
            "RestartPolicy": {"Condition": "none"},
        },
        "Mode": {"Global": {}},
    }
