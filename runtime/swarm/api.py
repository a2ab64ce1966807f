"""The Swarm calls of the Engine API with plain dicts (docker-py's service helpers take typed objects instead)."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from runtime import errors as E
from runtime.base import LabelFilter
from runtime.docker import DockerEngine, _label_filters, _mapped
from runtime.payload import DEFAULT_PIDS_LIMIT
from runtime.swarm import tasks as T

POLL = 0.25  # seconds between looks at a service's tasks while waiting for them
STOP_MARGIN = 30.0  # seconds beyond the grace period before a stop gives up waiting
UPDATE_ATTEMPTS = 5  # a service update racing another one ("update out of sequence") is made again


class SwarmAPI(DockerEngine):
    """Services, tasks and nodes as the manager's API returns them; the engine interface is built on these."""

    def __init__(self, url: str, *, timeout: float = 120, pids_limit: int | None = DEFAULT_PIDS_LIMIT) -> None:
        super().__init__(url, timeout=timeout, pids_limit=pids_limit)
        self._hostnames: dict[str, str] = {}
        self._node_id = ""

    def _json(self, method: str, path: str, *args: str, body: Any = None, **params: Any) -> Any:
        """One Engine API call with a JSON answer (docker-py has no plain-dict service calls)."""
        api = self.api
        url = api._url(path, *args)
        with _mapped():
            if method == "GET":
                resp = api._get(url, params=params or None)
            elif method == "DELETE":
                resp = api._delete(url, params=params or None)
            else:
                resp = api._post_json(url, data=body, params=params or None)
            api._raise_for_status(resp)
            return resp.json() if resp.content else None

    def _service(self, ref: str) -> dict:
        """GET /services/{ref} (a name or an id)."""
        return self._json("GET", "/services/{0}", ref)

    def _services(self, labels: LabelFilter | None) -> list[dict]:
        filters = {"label": _label_filters(labels)} if labels else {}
        return self._json("GET", "/services", filters=_filters(filters)) or []

    def _tasks(self, *service_ids: str) -> list[dict]:
        """Every task of the services, newest first; none for a service removed meanwhile. Several services are
        read in one call of all tasks: the API refuses a filter naming a service that is gone."""
        if not service_ids:
            return []
        try:
            filters = _filters({"service": list(service_ids)}) if len(service_ids) == 1 else None
            rows = self._json("GET", "/tasks", **({"filters": filters} if filters else {})) or []
        except E.NotFound:
            return []
        wanted = set(service_ids)
        return T.newest_first([t for t in rows if t.get("ServiceID") in wanted or len(service_ids) == 1])

    def node_id(self) -> str:
        """The id of the node we talk to (this box, the manager): bind folders pin apps to it."""
        if not self._node_id:
            with _mapped():
                swarm = self.api.info().get("Swarm") or {}
            self._node_id = swarm.get("NodeID") or ""
            if not self._node_id or swarm.get("LocalNodeState") != "active":
                raise E.EngineError.worded("this machine is not part of an active swarm", permanent=True)
        return self._node_id

    def hostnames(self, *, refresh: bool = False) -> dict[str, str]:
        """Node id -> hostname, read again when asked or when a node is not known yet."""
        if refresh or not self._hostnames:
            nodes = self._json("GET", "/nodes") or []
            self._hostnames = {n["ID"]: (n.get("Description") or {}).get("Hostname", "") for n in nodes}
        return self._hostnames

    def _hostnames_for(self, tasks: list[dict]) -> dict[str, str]:
        known = self.hostnames()
        if any(t.get("NodeID") and t["NodeID"] not in known for t in tasks):
            known = self.hostnames(refresh=True)
        return known

    def _update(self, ref: str, change: Callable[[dict], None]) -> dict:
        """Change a service's spec with `change` and send it; made again when another update came in between."""
        for attempt in range(1, UPDATE_ATTEMPTS + 1):
            service = self._service(ref)
            spec = copy.deepcopy(service["Spec"])
            change(spec)
            try:
                self._json(
                    "POST", "/services/{0}/update", service["ID"], body=spec, version=service["Version"]["Index"]
                )
                return service
            except E.EngineError as exc:
                if "out of sequence" not in exc.message or attempt == UPDATE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _await_gone(self, service: dict) -> None:
        deadline = time.monotonic() + STOP_MARGIN
        while self._tasks(service["ID"]) and time.monotonic() < deadline:
            time.sleep(POLL)


def _filters(filters: dict[str, list[str]]) -> str:
    return json.dumps(filters)


def task_state(task: Mapping[str, Any]) -> str:
    return (task.get("Status") or {}).get("State", "")


def service_name(service: Mapping[str, Any]) -> str:
    return (service.get("Spec") or {}).get("Name", "")


def task_words(task: Mapping[str, Any]) -> str:
    """A task's state and what Swarm says of it ("pending: no suitable node (...)")."""
    status = task.get("Status") or {}
    detail = status.get("Err") or status.get("Message") or ""
    return f"{status.get('State', '')}: {detail}" if detail else status.get("State", "")
