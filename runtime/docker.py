"""Docker Engine API backend (docker-py 7.x) for Docker and Podman's compat socket; the only docker-py importer."""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import docker
import docker.errors
import docker.types.daemon
import psutil
import requests.exceptions

from runtime import errors as E
from runtime.base import (
    ContainerCounters,
    ContainerInfo,
    ContainerStats,
    Engine,
    EngineEvent,
    HostResources,
    LabelFilter,
    NetworkInfo,
    ProgressCallback,
    PullProgress,
    VersionInfo,
    VolumeInfo,
)
from runtime.docker_parse import (
    container_from_inspect,
    container_from_summary,
    counters_from_raw,
    stats_from_raw,
    version_from_raw,
)
from runtime.payload import DEFAULT_PIDS_LIMIT, create_body, endpoint, files_tar, network_body, volume_body
from runtime.specs import ContainerSpec, NetworkSpec, VolumeSpec

_PORT_TAKEN = ("port is already allocated", "address already in use")
# Docker: "Pool overlaps with other one on this address space"; Podman: "subnet ... is already used on the host
# or by another config".
_SUBNET_TAKEN = ("pool overlaps", "is already used on the host or by another config")
# Podman 4 checks a new network's subnet against the host's addresses with Go's net.InterfaceAddrs, which (before Go
# 1.24) dumps the addresses, then the interfaces: one removed in between (any container stopping takes its veth
# along) fails the create with this. Nothing was made, so the same request again succeeds.
# Podman losing a race with host interfaces that come and go (other containers' veths): Go's interface listing
# (golang/go#51934) on a network create, the dnsname plugin's dnsmasq on a container start. Nothing was made.
_ENGINE_RACES = ("route ip+net: no such network interface", "failed to find list of interfaces")
RACE_ATTEMPTS = 5  # a race hits a few percent of creates while containers come and go; five in a row do not happen
RACE_PAUSE = 0.05  # seconds before the second attempt, doubled for each further one
_IMAGE_MISSING = (
    "manifest unknown",
    "not found",
    "pull access denied",
    "does not exist",
    "name unknown",
    "repository name not known",
    "no such image",
)
# Stops tried on a container its engine keeps restarting: Podman 4 restarts one without any delay, and a stop that
# lands between two runs ("already stopped") does not end its loop; the next one, landing on a run, does.
HALT_ATTEMPTS = 40
HALT_SETTLE = 0.5  # seconds a halted container must stay down (no new restart counted) to count as halted
_LAYER_ID = re.compile(r"^[0-9a-f]{12,64}$")
_IMAGE_STATUSES = ("Pulling from", "Digest:", "Status:", "Trying to pull", "Writing manifest", "Storing signatures")

log = logging.getLogger(__name__)


def _os_reason(exc: BaseException) -> str:
    """The operating system's words under a requests/urllib3 wrapper ("Connection refused"), else the text."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
        stack.extend(c for c in (current.__cause__, current.__context__, getattr(current, "reason", None)) if c)
    return str(exc)


def _map(exc: BaseException, *, image: str = "") -> E.EngineError:
    """Translate docker-py/requests exceptions into our error family."""
    if isinstance(exc, E.EngineError):
        return exc
    if isinstance(exc, requests.exceptions.ConnectionError | FileNotFoundError | ConnectionRefusedError):
        return E.EngineUnavailable.worded("the engine does not answer (%(reason)s)", reason=_os_reason(exc))
    if isinstance(exc, requests.exceptions.Timeout):
        return E.EngineError.worded("the engine timed out: %(error)s", error=str(exc))
    if isinstance(exc, docker.errors.APIError):
        return _map_api(exc, image)
    if isinstance(exc, docker.errors.DockerException):
        if "Connection" in str(exc):  # docker-py's own wrapper while it negotiates the API version
            return E.EngineUnavailable.worded("the engine does not answer (%(reason)s)", reason=_os_reason(exc))
        return E.EngineError(str(exc))
    return E.EngineError(f"{type(exc).__name__}: {exc}")


def _map_api(exc: docker.errors.APIError, image: str) -> E.EngineError:
    """Map an HTTP error of the Engine API by status code and message."""
    message = str(exc.explanation or exc)
    lowered = message.lower()
    code = exc.status_code or 0
    if any(s in lowered for s in _ENGINE_RACES):
        return E.EngineRace(message)
    if any(s in lowered for s in _PORT_TAKEN):
        return E.PortInUse(message)
    if any(s in lowered for s in _SUBNET_TAKEN):
        return E.SubnetTaken(message)
    if image and _about_image(lowered, image) and (code == 404 or any(s in lowered for s in _IMAGE_MISSING)):
        return E.ImageNotFound.worded("image %(image)s not found: %(error)s", image=image, error=message)
    if isinstance(exc, docker.errors.ImageNotFound):
        return E.ImageNotFound(message)
    if code == 404:
        return E.NotFound(message)
    if code == 409 or "already in use" in lowered or "already exists" in lowered:  # Podman says 500 here
        return E.Conflict(message)
    if code == 400:
        return E.InvalidSpec(message)
    return E.EngineError(message, permanent=False)


def _about_image(lowered: str, image: str) -> bool:
    """Whether an engine message speaks of the image, not of something else "not found" (Podman's missing init
    binary, a bind source) during a step that names an image."""
    name = image.rsplit("/", 1)[-1].split("@")[0].split(":")[0].lower()
    return "image" in lowered or "manifest" in lowered or name in lowered


@contextlib.contextmanager
def _mapped(*, image: str = "") -> Iterator[None]:
    """Run a block and re-raise any SDK error as an EngineError."""
    try:
        yield
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
        raise _map(exc, image=image) from exc


def _label_filters(labels: LabelFilter | None) -> list[str]:
    """{"a": "b", "c": None} -> ["a=b", "c"] for the engine's label filter."""
    return [k if v is None else f"{k}={v}" for k, v in (labels or {}).items()]


class DockerEngine(Engine):
    """Talks the Docker Engine API over a unix socket (or tcp); the API version is negotiated, never pinned."""

    def __init__(self, url: str, *, timeout: float = 120, pids_limit: int | None = DEFAULT_PIDS_LIMIT) -> None:
        self.url = url
        self._timeout = timeout
        self.pids_limit = pids_limit  # for containers whose spec sets none; None or 0 leaves the engine's default
        self._api: docker.APIClient | None = None
        self._lock = threading.Lock()
        self._info: VersionInfo | None = None  # which engine answers, asked once (for Podman-only calls)

    @property
    def api(self) -> docker.APIClient:
        """The low-level client, created on first use so get_engine() never blocks on a dead socket."""
        with self._lock:
            if self._api is None:
                with _mapped():
                    self._api = docker.APIClient(base_url=self.url, version="auto", timeout=self._timeout)
            return self._api

    def version(self) -> VersionInfo:
        """Engine name (docker/podman), version and negotiated API version."""
        with _mapped():
            self._info = version_from_raw(self.api.version(), self.api.api_version)
        return self._info

    def host_resources(self) -> HostResources:
        """GET /info: the engine host's RAM and CPUs (Docker and Podman both answer); swap only when it is this
        machine (the API does not say)."""
        with _mapped():
            info = self.api.info()
        swap = psutil.swap_memory().total if self.url.startswith("unix://") else 0
        return HostResources(memory=int(info.get("MemTotal") or 0), cpus=int(info.get("NCPU") or 0), swap=swap)

    def data_root(self) -> str:
        """DockerRootDir of GET /info (Podman answers its graph root there)."""
        with _mapped():
            return str(self.api.info().get("DockerRootDir") or "")

    def run_healthcheck(self, ref: str) -> None:
        """Podman: run the health check once through its own API; Docker runs them itself, so nothing to do.

        Podman schedules health checks with systemd timers; without systemd they never run and the health stays
        "starting". GET /v{version}/libpod/containers/{name}/healthcheck (Podman 4.x) runs one check and records
        the result as the timer would: failing streak, retries and start period included (read it with inspect).
        Conflict when the container is not running or has no health check.
        """
        if self._engine_name() == "podman":
            self._libpod_get(f"containers/{quote(ref, safe='')}/healthcheck")

    def _engine_name(self) -> str:
        """docker or podman (asked once)."""
        return (self._info or self.version()).engine

    def _libpod_get(self, path: str) -> requests.Response:
        """GET one of Podman's own endpoints (for what its Docker-compatible API leaves out)."""
        info = self._info or self.version()
        with _mapped():
            resp = self.api._get(f"{self.api.base_url}/v{info.version}/libpod/{path}")
            self.api._raise_for_status(resp)
            return resp

    def service_names_resolve(self) -> bool:
        """Docker's embedded DNS always resolves them. Podman 4 with CNI does only with the dnsname plugin: a network
        created without it reports dns_enabled false, so a throw-away network is created and asked."""
        info = self._info or self.version()
        if info.engine != "podman":
            return True
        name = f"casaos-dns-probe-{secrets.token_hex(4)}"
        self._network_create(name, driver="bridge")
        with _mapped():
            try:
                path = f"/v{info.version}/libpod/networks/{name}/json"
                network = self.api._result(self.api._get(self.api.base_url + path), json=True)
            finally:
                self.api.remove_network(name)
        return bool(network.get("dns_enabled"))

    def pull(self, image: str, on_progress: ProgressCallback | None = None) -> str:
        """Pull with per-layer progress; errors reported inside the stream are raised too."""
        with _mapped(image=image):
            for msg in self.api.pull(image, stream=True, decode=True):
                if "error" in msg:
                    raise _map_api(docker.errors.APIError(msg["error"], explanation=msg["error"]), image)
                if on_progress is not None and msg.get("status"):
                    on_progress(_progress(image, msg))
            return self.api.inspect_image(image)["Id"]

    def image_exists(self, image: str) -> bool:
        """True when the image is present locally."""
        try:
            with _mapped():
                self.api.inspect_image(image)
        except E.NotFound:
            return False
        return True

    def remove_image(self, image: str, *, force: bool = False) -> None:
        """Remove a local image."""
        with _mapped():
            self.api.remove_image(image, force=force)

    def image_id(self, image: str) -> str:
        """Local image id of a reference, "" when absent."""
        try:
            with _mapped():
                return str(self.api.inspect_image(image)["Id"])
        except E.NotFound:
            return ""

    def registry_digest(self, image: str) -> str:
        """GET /distribution/{name}/json: the digest the registry serves now."""
        with _mapped(image=image):
            return str(self.api.inspect_distribution(image)["Descriptor"]["digest"])

    def image_digests(self, image: str) -> tuple[str, ...]:
        """RepoDigests of the local image."""
        try:
            with _mapped():
                return tuple(self.api.inspect_image(image).get("RepoDigests") or ())
        except E.NotFound:
            return ()

    def container_config(self, ref: str) -> dict:
        """Raw GET /containers/{id}/json."""
        with _mapped():
            return dict(self.api.inspect_container(ref))

    def create(self, spec: ContainerSpec) -> str:
        """Create, join the remaining networks, copy config files; a half-made container is removed again."""
        with _mapped(image=spec.image):
            body = create_body(spec, default_pids_limit=self.pids_limit)
            cid = self.api.create_container_from_config(body, name=spec.name)["Id"]
        try:
            with _mapped():
                for att in spec.networks[1:]:  # API 1.41 accepts only one network at create time
                    ep = endpoint(att)
                    self.api.connect_container_to_network(
                        cid,
                        att.network,
                        aliases=ep["Aliases"],
                        ipv4_address=att.ipv4_address or None,
                        ipv6_address=att.ipv6_address or None,
                    )
                if spec.files:
                    self.api.put_archive(cid, "/", files_tar(spec.files))
            if spec.cgroup:
                self._check_cgroup(cid, spec.cgroup)
        except E.EngineError:
            with contextlib.suppress(E.EngineError), _mapped():
                self.api.remove_container(cid, force=True)
            raise
        return cid

    def _check_cgroup(self, cid: str, mode: str) -> None:
        """Podman before 5 ignores CgroupnsMode on its Docker API: refuse rather than run in another namespace."""
        if self._engine_name() != "podman":
            return  # Docker honours it (API 1.41)
        actual = (self._libpod_get(f"containers/{cid}/json").json().get("HostConfig") or {}).get("CgroupMode", "")
        if actual != mode:
            raise E.InvalidSpec(
                f"this Podman cannot give the container the cgroup namespace it asks for (cgroup: {mode}); "
                f"it would share {'the host' if actual == 'host' else actual or 'another'} one instead"
            )

    def start(self, ref: str) -> None:
        """Start a container (PortInUse when a published port is taken)."""
        self._raced(f"start container {ref}", lambda: self.api.start(ref))

    def stop(self, ref: str, *, timeout: float | None = None) -> None:
        """Stop a container."""
        with _mapped():
            if timeout is None:
                self.api.stop(ref)
            else:
                self.api.stop(ref, timeout=int(timeout))

    def restart(self, ref: str, *, timeout: float | None = None) -> None:
        """Restart a container."""
        with _mapped():
            self.api.restart(ref, timeout=10 if timeout is None else int(timeout))

    def halt(self, ref: str) -> None:
        """Restart policy "no" where the engine can change it, then stop until the container stays down: Podman 4
        restarts a crashing container many times a second, and a stop between two runs does not end that loop."""
        self.restart_policy_set(ref, "no")
        for _attempt in range(HALT_ATTEMPTS):
            self.stop(ref, timeout=10)
            before = self._restarts(ref)
            time.sleep(HALT_SETTLE)
            if self._restarts(ref) == before and self.inspect(ref).state not in ("running", "restarting"):
                return
        raise E.EngineError.worded(
            "container %(name)s keeps restarting after %(count)s stops", name=ref, count=HALT_ATTEMPTS
        )

    def _restarts(self, ref: str) -> int:
        """RestartCount: the restarts its policy made since it was last started by hand."""
        return int(self.container_config(ref).get("RestartCount") or 0)

    def restart_policy_set(self, ref: str, policy: str) -> bool:
        """POST /containers/{id}/update with a RestartPolicy (Docker); Podman 4's API cannot change it: False."""
        if self._engine_name() == "podman":
            return False
        name, _colon, count = policy.partition(":")
        restart = {"Name": name, "MaximumRetryCount": int(count or 0)}  # "no", not "": an empty name changes nothing
        with _mapped():
            self.api.update_container(ref, restart_policy=restart)
        return True

    def remove(self, ref: str, *, force: bool = False, volumes: bool = False) -> None:
        """Remove a container."""
        with _mapped():
            self.api.remove_container(ref, force=force, v=volumes)

    def rename(self, ref: str, name: str) -> None:
        """Rename a container; to its own name is a no-op (Docker refuses that with 400, Podman accepts it)."""
        with _mapped():
            if self.api.inspect_container(ref)["Name"].lstrip("/") == name:
                return
            self.api.rename(ref, name)

    def wait(self, ref: str, *, timeout: float | None = None) -> int:
        """Block until exit; returns the exit code."""
        with _mapped():
            return int(self.api.wait(ref, timeout=timeout)["StatusCode"])

    def inspect(self, ref: str) -> ContainerInfo:
        """One container."""
        with _mapped():
            return container_from_inspect(self.api.inspect_container(ref))

    def list(self, labels: LabelFilter, *, all: bool = True) -> list[ContainerInfo]:
        """Containers carrying all the given labels."""
        with _mapped():
            rows = self.api.containers(all=all, filters={"label": _label_filters(labels)})
        return [container_from_summary(r) for r in rows]

    def logs(
        self, ref: str, *, follow: bool = False, tail: int | None = None, timestamps: bool = False
    ) -> Iterator[str]:
        """Log lines; close() (from any thread, e.g. a websocket going away) ends a follow at once."""
        with _mapped():
            stream = self.api.logs(
                ref, stream=True, follow=follow, tail="all" if tail is None else tail, timestamps=timestamps
            )
        return DockerLogs(stream)

    def stats(self, ref: str) -> ContainerStats:
        """One CPU/memory sample (the engine waits for a second reading to compute CPU %)."""
        with _mapped():
            return stats_from_raw(self.api.stats(ref, stream=False))

    def counters(self, ref: str) -> ContainerCounters:
        """Cumulative counters in one reading: one-shot, so the engine does not wait for a second one to rate CPU."""
        with _mapped():
            return counters_from_raw(self.api.stats(ref, stream=False, one_shot=True))

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
        """Start a process in a running container; returns its socket-like session."""
        with _mapped():
            exec_id = self.api.exec_create(
                ref,
                cmd,
                stdin=True,
                tty=tty,
                user=user,
                workdir=workdir or None,
                environment=dict(env) if env else None,
            )["Id"]
            sock = self.api.exec_start(exec_id, socket=True, tty=tty)
        return DockerExec(self, exec_id, sock, tty=tty)

    def events(
        self, *, labels: LabelFilter | None = None, since: datetime | None = None, until: datetime | None = None
    ) -> DockerEvents:
        """Container events as EngineEvent dataclasses. Labels with a value are filtered by the engine; "has this
        label" (a None value) here, because Podman 4's event filter matches nothing for a bare key."""
        valued = {k: v for k, v in (labels or {}).items() if v is not None}
        filters = {"type": ["container"], **({"label": _label_filters(valued)} if valued else {})}
        with _mapped():
            stream = self.api.events(since=since, until=until, filters=filters, decode=True)
        return DockerEvents(stream, having=[k for k, v in (labels or {}).items() if v is None])

    def create_network(self, spec: NetworkSpec) -> str:
        """Create a network from its payload (runtime.payload.network_body: what the policy checked)."""
        body = network_body(spec)
        res = self._network_create(
            body["Name"],
            driver=body["Driver"],
            options=body["Options"] or None,
            ipam=body.get("IPAM"),
            check_duplicate=body["CheckDuplicate"],
            internal=body["Internal"],
            labels=body["Labels"],
            enable_ipv6=body["EnableIPv6"],
            attachable=body["Attachable"],
        )
        return res["Id"]

    def _network_create(self, name: str, **options: Any) -> dict:
        """POST /networks/create, made again when the engine lost a race."""
        return self._raced(f"create network {name}", lambda: self.api.create_network(name, **options))

    def _raced(self, what: str, call: Callable[[], Any]) -> Any:
        """Run an engine call, again (a bounded number of times, logged) while the engine loses a race."""
        attempt = 1
        while True:
            try:
                with _mapped():
                    return call()
            except E.EngineRace as exc:
                if attempt == RACE_ATTEMPTS:
                    raise E.EngineRace(
                        f"the engine could not {what}: it lost a race with the host's network interfaces changing "
                        f"{attempt} times in a row ({exc.message})"
                    ) from exc
                log.warning("%s: the engine lost a race (%s); trying again", what, exc.message)
                time.sleep(RACE_PAUSE * 2 ** (attempt - 1))
                attempt += 1

    def network_subnets(self) -> list[str]:
        """Every subnet any network on the engine holds (ours, foreign ones, the default bridge)."""
        with _mapped():
            rows = self.api.networks()
        return [
            pool["Subnet"] for r in rows for pool in ((r.get("IPAM") or {}).get("Config") or []) if pool.get("Subnet")
        ]

    def remove_network(self, name: str) -> None:
        """Remove a network."""
        with _mapped():
            self.api.remove_network(name)

    def list_networks(self, labels: LabelFilter) -> list[NetworkInfo]:
        """Networks carrying all the given labels."""
        with _mapped():
            rows = self.api.networks(filters={"label": _label_filters(labels)})
        return [
            NetworkInfo(id=r["Id"], name=r["Name"], driver=r.get("Driver", ""), labels=r.get("Labels") or {})
            for r in rows
        ]

    def create_volume(self, spec: VolumeSpec) -> str:
        """Create (or reuse) a named volume from its payload (runtime.payload.volume_body)."""
        body = volume_body(spec)
        with _mapped():
            res = self.api.create_volume(
                body["Name"], driver=body["Driver"], driver_opts=body["DriverOpts"] or None, labels=body["Labels"]
            )
        return res["Name"]

    def remove_volume(self, name: str, *, force: bool = False) -> None:
        """Remove a volume."""
        with _mapped():
            self.api.remove_volume(name, force=force)

    def list_volumes(self, labels: LabelFilter) -> list[VolumeInfo]:
        """Volumes carrying all the given labels."""
        with _mapped():
            rows = self.api.volumes(filters={"label": _label_filters(labels)}).get("Volumes") or []
        return [
            VolumeInfo(
                name=r["Name"],
                driver=r.get("Driver", ""),
                labels=r.get("Labels") or {},
                mountpoint=r.get("Mountpoint", ""),
            )
            for r in rows
        ]


def _progress(image: str, msg: dict[str, Any]) -> PullProgress:
    """One pull stream message as PullProgress; image-level messages get an empty layer id."""
    status = str(msg.get("status", ""))
    detail = msg.get("progressDetail") or {}
    layer = str(msg.get("id", ""))
    if status.startswith(_IMAGE_STATUSES) or not _LAYER_ID.match(layer):  # "Pulling from x" carries the tag as id
        layer = ""
    return PullProgress(
        image=image,
        layer=layer,
        status=status,
        current=int(detail.get("current") or 0),
        total=int(detail.get("total") or 0),
    )


def _lines(stream: Any) -> Iterator[str]:
    """Re-split raw log chunks into lines (frames may hold part of a line or several lines)."""
    buffer = b""
    try:
        with _mapped():
            for chunk in stream:
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    yield line.rstrip(b"\r").decode("utf-8", "replace")
        if buffer:
            yield buffer.decode("utf-8", "replace")
    finally:
        with contextlib.suppress(Exception):
            stream.close()


def logs_stream(api: docker.APIClient, path: str, params: Mapping[str, Any], *, tty: bool) -> DockerLogs:
    """Log lines of any logs endpoint (a Swarm service's too: runtime.swarm), closable like a container's."""
    with _mapped():
        resp = api._get(api._url(path), params=dict(params), stream=True)
        api._raise_for_status(resp)
        return DockerLogs(docker.types.daemon.CancellableStream(api._get_result_tty(True, resp, tty), resp))


class DockerLogs:
    """Iterator of log lines; close() shuts the HTTP stream down, which also ends a read blocked in another thread."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._lines = _lines(stream)

    def __iter__(self) -> DockerLogs:
        return self

    def __next__(self) -> str:
        return next(self._lines)

    def close(self) -> None:
        """Stop reading (idempotent)."""
        with contextlib.suppress(Exception):
            self._stream.close()


class DockerEvents:
    """Iterator of EngineEvent over the engine's event stream; close() ends it."""

    def __init__(self, stream: Any, *, having: Iterable[str] = ()) -> None:
        self._stream = stream
        self._having = tuple(having)  # labels each event's container must carry, whatever their value

    def __iter__(self) -> DockerEvents:
        return self

    def __next__(self) -> EngineEvent:
        while True:
            with _mapped():
                raw = next(self._stream)
            if raw.get("Type", "container") == "container" and raw.get("Action"):
                event = _event(raw)
                if all(key in event.labels for key in self._having):
                    return event

    def close(self) -> None:
        """Stop listening."""
        with contextlib.suppress(Exception):
            self._stream.close()


def _event(raw: dict[str, Any]) -> EngineEvent:
    """Split the Actor attributes into name/image/exit code and the container's labels."""
    attrs = dict((raw.get("Actor") or {}).get("Attributes") or {})
    name, image, code = attrs.pop("name", ""), attrs.pop("image", ""), attrs.pop("exitCode", None)
    nanos = raw.get("timeNano") or int(raw.get("time", 0)) * 1_000_000_000
    return EngineEvent(
        container_id=(raw.get("Actor") or {}).get("ID") or raw.get("id", ""),
        action=raw["Action"],
        labels=attrs,
        time=datetime.fromtimestamp(nanos / 1e9, tz=UTC),
        name=name,
        image=image,
        exit_code=int(code) if code not in (None, "") else None,
    )


class DockerExec:
    """A socket-like exec session; see runtime.base.ExecSession."""

    def __init__(self, engine: DockerEngine, exec_id: str, sock: Any, *, tty: bool) -> None:
        self._engine = engine
        self.id = exec_id
        self.tty = tty
        self._sock = getattr(sock, "_sock", sock)  # SocketIO wraps the real socket on unix sockets

    def send(self, data: bytes) -> int:
        """Write to stdin."""
        with _mapped():
            self._sock.sendall(data)
        return len(data)

    def recv(self, size: int = 4096) -> bytes:
        """Raw output bytes; b"" at EOF."""
        with _mapped():
            return self._sock.recv(size)

    def read_all(self) -> bytes:
        """Everything until EOF, with Docker's 8-byte stream headers removed when tty=False."""
        data = b"".join(iter(lambda: self.recv(65536), b""))
        return data if self.tty else _demux(data)

    def close_write(self) -> None:
        """EOF on stdin."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(1)

    def close(self) -> None:
        """Close the stream."""
        with contextlib.suppress(OSError):
            self._sock.close()

    def fileno(self) -> int:
        """For select()."""
        return self._sock.fileno()

    def resize(self, rows: int, cols: int) -> None:
        """Resize the tty."""
        with _mapped():
            self._engine.api.exec_resize(self.id, height=rows, width=cols)

    def exit_code(self) -> int | None:
        """Exit code once finished, else None."""
        with _mapped():
            info = self._engine.api.exec_inspect(self.id)
        return None if info.get("Running") else info.get("ExitCode")


def _demux(data: bytes) -> bytes:
    """Concatenate the payloads of multiplexed frames (1 byte stream, 3 pad, 4 big-endian length)."""
    out, i = [], 0
    while i + 8 <= len(data):
        size = int.from_bytes(data[i + 4 : i + 8], "big")
        out.append(data[i + 8 : i + 8 + size])
        i += 8 + size
    return b"".join(out)
