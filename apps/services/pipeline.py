"""The install pipeline: pull, create, start in order, wait for health and the web port; undo on any failure.

Every step is idempotent (objects are found by label and reused), so a retried or resumed install continues.
"""

import contextlib
import http.client
import logging
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from casaos_site.i18n import deferred, deferred_join, deferred_within
from runtime import AppProgress, Engine, PullAggregator, PullProgress
from runtime import labels as L
from runtime.compose import ComposeError, Project
from runtime.errors import Conflict, EngineError, EngineUnavailable, ImageNotFound, NotFound, PortInUse
from runtime.policy import Context as PolicyContext
from runtime.policy import allowed as policy_allowed
from runtime.specs import ContainerSpec, Dependency

from ..models import AppEvent, Installation
from ..selectors import app_containers_of
from .cleanup import app_objects_remove, heartbeat
from .common import (
    DETAIL_CHARS,
    InstallCancelled,
    InstallError,
    InstallFailed,
    app_publish,
    app_publish_flush,
    app_subnet_pool,
    app_update,
    engine_for,
    engine_words,
    error_stored,
    never_pulled,
)
from .install import app_project
from .operation import install_history_close
from .placement import LOOPBACK, web_host
from .policy import policy_enforce
from .seed import seed_ended, seed_failed, seed_fill

log = logging.getLogger(__name__)
S = Installation.Status
Outcome = AppEvent.Outcome
POLL = 0.1  # seconds between probes of the web port once it is slow to answer
POLL_FIRST = 0.02  # ... and during the first second: most apps answer almost at once, and every probe is cheap
CANCEL_CHECK = 0.5  # seconds between looks at the cancel flag
SETTLE = 2.0  # seconds an app without a web port must stay up before it counts as running
DEFAULT_HEALTH_INTERVAL = 30.0  # Docker's own default between two health checks
ENGINE_POLL = 1.0  # seconds between looks at an engine that went away: the install resumes this soon after it is back


def app_install_run(*, installation_id: int, worker: str = "") -> Installation | None:
    """Run or resume one install; a second call while it runs (or after it ended) does nothing."""
    inst = _claim(installation_id, worker)
    if inst is None:
        return None
    eng = engine_for(inst)
    with heartbeat(inst.pk):
        try:
            _run_to_the_end(inst, eng)
        finally:
            app_publish_flush()  # the final state reaches the pages before the task counts as done
    return inst


def _run_to_the_end(inst: Installation, eng: Engine) -> None:
    """Run the pipeline until it succeeds or fails; an engine outage is waited out, then the pass runs again.

    Waiting for the engine is part of this attempt, not a new one: a short outage costs seconds, never the install.
    """
    # The first pass of a first attempt has no earlier attempt's containers to look for (a retry after a failure
    # or a cancel, whose clean-up may have left something, is marked in its progress).
    fresh = inst.attempts == 1 and not inst.progress
    while True:
        try:
            _Run(inst, eng, app_project(installation=inst), fresh=fresh).execute()
            install_history_close(installation=inst, outcome=Outcome.DONE, message=deferred("Installed and running."))
            seed_ended(inst=inst, ok=True)
            return
        except InstallCancelled:
            _cancelled(inst, eng)
            return
        except Exception as exc:
            outage = _engine_outage(eng, exc)
            if outage is None:
                app_install_end(installation=inst, eng=eng, status=S.FAILED, message=_failure_message(inst, exc))
                return
        fresh = False
        try:
            back = _engine_await(inst, eng, outage)
        except InstallCancelled:
            _cancelled(inst, eng)
            return
        if not back:
            message = deferred(
                "The container engine did not answer for %(seconds)s seconds (%(error)s).",
                seconds=settings.APPS_ENGINE_WAIT,
                error=outage,
            )
            app_install_end(installation=inst, eng=eng, status=S.FAILED, message=message)
            return


def _cancelled(inst: Installation, eng: Engine) -> None:
    app_install_end(installation=inst, eng=eng, status=S.CANCELLED, message=deferred("The install was cancelled."))


def _failure_message(inst: Installation, exc: Exception) -> str:
    """What the page shows for a failed pass (an unexpected error is logged with its traceback too)."""
    if isinstance(exc, InstallFailed | InstallError | ComposeError | EngineError):
        return error_stored(exc)
    log.error("install of %s failed unexpectedly", inst.name, exc_info=exc)
    return deferred("Unexpected error: %(error)s", error=exc)


def _engine_outage(eng: Engine, exc: Exception) -> str | None:
    """Why the engine is away when this failure came from it being away, else None (a real failure).

    A stream cut by a dying engine surfaces as a generic error (a pull "could not download"), so any failure is
    checked against the engine itself.
    """
    if isinstance(exc, EngineUnavailable):
        return engine_words(exc)
    if not isinstance(exc, EngineError | InstallFailed):
        return None
    try:
        eng.version()
    except EngineError as down:
        return engine_words(down)
    return None


def _engine_await(inst: Installation, eng: Engine, reason: str) -> bool:
    """Wait (heartbeat beating, cancel watched) until the engine answers again; False after APPS_ENGINE_WAIT."""
    app_update(
        inst,
        detail=deferred_within(DETAIL_CHARS, "Waiting for the container engine: %(error)s…", error=reason),
        error="",
    )
    deadline = time.monotonic() + settings.APPS_ENGINE_WAIT
    while time.monotonic() < deadline:
        time.sleep(ENGINE_POLL)
        if Installation.objects.filter(pk=inst.pk, cancel_requested=True).exists():
            raise InstallCancelled
        try:
            eng.version()
        except EngineError:
            continue
        app_update(inst, detail=deferred("The container engine is back; resuming…"))
        return True
    return False


def app_install_end(*, installation: Installation, eng: Engine, status: str, message: str) -> Installation:
    """Undo what this install created (containers, networks, its own volumes and empty folders) and record the end."""
    inst = installation
    stopped_at = inst.status if inst.status in Installation.WORKING else inst.progress.get("stopped_at", "")
    app_update(inst, detail=deferred("Removing what this install created…"))
    created = inst.created_objects or []
    problems = app_objects_remove(
        eng=eng,
        name=inst.name,
        volumes=[o["name"] for o in created if o["kind"] == "volume"],
        dirs=[o["name"] for o in created if o["kind"] == "dir"],
    )
    if problems:
        message = deferred_join(
            message, deferred("Some objects could not be removed: %(problems)s", problems="; ".join(problems))
        )
    outcome = Outcome.CANCELLED if status == S.CANCELLED else Outcome.FAILED
    install_history_close(installation=inst, outcome=outcome, message=message)
    app_update(
        inst,
        status=status,
        error=message,
        detail="",
        cancel_requested=False,
        created_objects=created if problems else [],
        progress={**inst.progress, "stopped_at": stopped_at},
    )
    seed_failed(inst=inst, message=message, removed=not problems)
    return inst


def _claim(pk: int, worker: str) -> Installation | None:
    """Take a queued install, or one whose worker died (stale heartbeat); anything else is someone else's."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.APPS_STALE_SECONDS)
    claimable = Q(status=S.PENDING) | Q(status__in=Installation.WORKING, heartbeat_at__lt=stale)
    taken = Installation.objects.filter(claimable, pk=pk).update(
        status=S.PULLING, heartbeat_at=now, updated_at=now, attempts=F("attempts") + 1, worker=worker, error=""
    )
    return Installation.objects.filter(pk=pk).first() if taken else None


class _Run:
    """One pass of the pipeline over a translated project."""

    def __init__(
        self, inst: Installation, eng: Engine, project: Project, *, fresh: bool = False, record: dict | None = None
    ) -> None:
        self.inst, self.eng, self.project = inst, eng, project
        self.record = record  # a change's pending consent record; None: the app's own
        self.policy: PolicyContext | None = None  # set once the container policy passed
        self.app = {L.APP: inst.name}
        self._checked = 0.0
        self._stop = False  # set when cancelled or when one pull failed: the other pulls stop at their next event
        self._dirty = False
        self._created: set[str] = set()  # containers this pass made (known not to run yet)
        # The first pass of an install: the request checked that none of its containers exist, so there is no
        # earlier attempt's container to look for (a resumed or retried pass, and AppApply, look).
        self.fresh = fresh
        self.timings: dict[str, int] = {}  # milliseconds per step of this pass, kept with the final state
        self._lap_at = ("", time.monotonic())
        if fresh:  # from the request to a worker taking it (the claim wrote updated_at)
            self.timings["queued"] = round((inst.updated_at - inst.created_at).total_seconds() * 1000)

    def execute(self) -> None:
        self.check_policy()  # nothing is downloaded for a payload the policy refuses
        self.step(S.PULLING, deferred("Downloading images…"))
        self._pulls_await(self.pull_begin(), during=self.prepare)  # networks and volumes while images download
        seed_fill(inst=self.inst, eng=self.eng, project=self.project)  # a copy's data, before any container exists
        self.create_containers()
        self.start()
        self.wait_ready()
        self.lap("")
        app_update(
            self.inst,
            status=S.RUNNING,
            detail="",
            error="",
            progress={**self.inst.progress, "percent": 100.0, "stopped_at": "", "timings": self.timings},
        )

    # ------------------------------------------------------------------------ steps
    def pull(self) -> None:
        """Pull the missing images and wait for them."""
        self.check_policy()
        self.step(S.PULLING, deferred("Downloading images…"))
        self._pulls_await(self.pull_begin())

    def create(self) -> None:
        """Networks, volumes, folders, then the containers."""
        self.prepare()
        self.create_containers()

    def pull_begin(self) -> tuple[ThreadPoolExecutor | None, set, PullAggregator]:
        """Start pulling the missing images in parallel, with byte progress per layer summed per image and app."""
        agg = PullAggregator(self.project.images, self._on_progress)
        missing = []
        for image in self.project.images:
            policy = self.project.pull_policy(image)
            if policy != "always" and self.eng.image_exists(image):
                agg.image_done(image)
            elif policy == "never":
                raise InstallFailed(never_pulled(image))
            else:
                missing.append(image)
        return self._pulls_start(missing, agg)

    def check_policy(self) -> PolicyContext:
        """The container policy once more, right before the engine creates anything (the request passed it too)."""
        if self.policy is None:
            self.policy = policy_enforce(inst=self.inst, project=self.project, record=self.record)
        return self.policy

    def prepare(self) -> None:
        """Networks, volumes and bind folders; what already exists for this app is reused."""
        self.check_policy()
        have = {n.name for n in self.eng.list_networks(self.app)}
        pool = app_subnet_pool()
        for net in self.project.networks:
            if not net.external and net.name not in have:
                self.eng.create_network_in_pool(net, pool)  # a small subnet of our pool, not a default /16
        volumes = {v.name for v in self.eng.list_volumes({})}
        for vol in self.project.volumes:
            if not vol.external and vol.name not in volumes:
                self._record("volume", vol.name)  # recorded first: a crash right after still gets it removed
                self.eng.create_volume(vol)
        for spec in self.project.containers:
            self._make_folders(spec)

    def create_containers(self) -> None:
        """The containers, in start order; one an earlier attempt made with the same config is kept."""
        self.step(S.CREATING, deferred("Creating containers…"))
        self.check_policy()
        existing = {} if self.fresh else {c.name: c for c in app_containers_of(eng=self.eng, name=self.inst.name)}
        for spec in self.project.containers:
            self.check_cancel()
            self._create_container(spec, existing.get(spec.name))

    def start(self) -> None:
        """Start in dependency order, waiting for `service_healthy` / `service_completed_successfully` first."""
        self.step(S.STARTING, deferred("Starting…"))
        for spec in self.project.containers:
            for dep in spec.depends_on:
                if dep.service in self.project.services:
                    self._wait_dependency(dep)
            if spec.name not in self._created and self.eng.inspect(spec.name).running:
                continue  # an earlier attempt got this far
            app_update(self.inst, detail=deferred("Starting %(service)s…", service=spec.service))
            try:
                self.eng.start(spec.name)
            except PortInUse as exc:
                raise InstallFailed(
                    deferred(
                        "%(service)s could not start: a port it publishes is taken (%(error)s).",
                        service=spec.service,
                        error=exc.message,
                    )
                ) from exc

    def wait_ready(self) -> None:
        """Every health check passes, then the web port answers (or the app stays up for a moment)."""
        self.lap("ready")
        for spec in self.project.containers:
            self._wait_healthy(spec)
        if self.inst.web_port:
            self._wait_web(self.inst.web_port)
        else:
            deadline = time.monotonic() + SETTLE
            while time.monotonic() < deadline:
                self._check_alive()
                time.sleep(0.25)
        self._check_alive()

    # ------------------------------------------------------------------------ state
    def step(self, status: str, detail: str) -> None:
        """Move to the next step, unless the admin cancelled meanwhile (one conditional write does both)."""
        now = timezone.now()
        moved = Installation.objects.filter(pk=self.inst.pk, cancel_requested=False).update(
            status=status, detail=detail, heartbeat_at=now, updated_at=now
        )
        if not moved:
            self._stop = True
            raise InstallCancelled
        self._checked = time.monotonic()
        self.lap(status)
        app_update(self.inst, status=status, detail=detail, write=False)

    def lap(self, name: str) -> None:
        """Close the running step's stopwatch and start `name`'s (where an install spends its time)."""
        now = time.monotonic()
        previous, since = self._lap_at
        if previous:
            self.timings[previous] = self.timings.get(previous, 0) + round((now - since) * 1000)
        self._lap_at = (name, now)

    def check_cancel(self, *, force: bool = False) -> None:
        """Raise InstallCancelled once the admin asked (the flag is read at most twice a second)."""
        now = time.monotonic()
        if force or now - self._checked >= CANCEL_CHECK:
            self._checked = now
            if Installation.objects.filter(pk=self.inst.pk, cancel_requested=True).exists():
                self._stop = True
                raise InstallCancelled
        if self._stop:
            raise InstallCancelled

    def _record(self, kind: str, name: str) -> None:
        created = [*self.inst.created_objects, {"kind": kind, "name": name}]
        app_update(self.inst, created_objects=created, publish_state=False)

    # ------------------------------------------------------------------------ pulling
    def _pulls_start(
        self, images: list[str], agg: PullAggregator
    ) -> tuple[ThreadPoolExecutor | None, set, PullAggregator]:
        if not images:
            return None, set(), agg
        pool = ThreadPoolExecutor(max_workers=min(4, len(images)), thread_name_prefix=f"pull-{self.inst.name}")
        return pool, {pool.submit(self._pull_one, image, agg) for image in images}, agg

    def _pulls_await(self, pulls: tuple[ThreadPoolExecutor | None, set, PullAggregator], during=None) -> None:
        """Wait for the pulls (running `during` meanwhile), saving progress and watching the cancel flag."""
        pool, pending, _agg = pulls
        try:
            if during is not None:
                during()
            while pending:
                done, pending = wait(pending, timeout=CANCEL_CHECK, return_when=FIRST_EXCEPTION)
                for future in done:
                    future.result()  # re-raises the first failure here, in the task's thread
                self._save_progress()
                self.check_cancel()
        except BaseException:
            self._stop = True  # the other pulls stop at their next event
            raise
        finally:
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)  # a stuck pull must not hold the clean-up
        self._save_progress()  # the final figures, unless the last look already stored them

    def _pull_all(self, images: list[str], agg: PullAggregator) -> None:
        """Pull exactly these images now (an update pulls every image again)."""
        self._pulls_await(self._pulls_start(images, agg))

    def _pull_one(self, image: str, agg: PullAggregator) -> None:
        def on_event(event: PullProgress) -> None:
            if self._stop:
                raise InstallCancelled  # unwinds the engine's stream, which stops the download
            agg(event)

        try:
            self.eng.pull(image, on_event)
        except ImageNotFound as exc:
            raise InstallFailed(deferred("The image %(image)s was not found in its registry.", image=image)) from exc
        except EngineUnavailable:
            raise
        except EngineError as exc:
            raise InstallFailed(
                deferred("Could not download %(image)s: %(error)s", image=image, error=engine_words(exc))
            ) from exc
        agg.image_done(image)

    def _on_progress(self, progress: AppProgress) -> None:
        """Throttled by the aggregator to a few calls a second; pages get every one, the database one a second."""
        self.inst.progress = {
            "percent": round(progress.percent, 1),
            "current": progress.current,
            "total": progress.total,
            "images": [
                {
                    "image": i.image,
                    "current": i.current,
                    "total": i.total,
                    "layers": i.layers,
                    "layers_done": i.layers_done,
                    "done": i.done,
                    "percent": 100.0 if i.done else round(100.0 * i.current / i.total, 1) if i.total else 0.0,
                }
                for i in progress.images
            ],
        }
        self._dirty = True
        app_publish(self.inst)

    def _save_progress(self, *, force: bool = False) -> None:
        if self._dirty or force:
            self._dirty = False
            app_update(self.inst, progress=self.inst.progress, publish_state=False)

    # ------------------------------------------------------------------------ creating
    def _make_folders(self, spec: ContainerSpec) -> None:
        """Create missing bind sources ourselves (as `-v` would), recording each so a failure removes them; only
        inside the app's folder and its approver's writable folders: a missing host path elsewhere is refused."""
        for mount in spec.mounts:
            if mount.type != "bind" or not mount.create_host_path or Path(mount.source).exists():
                continue
            if not policy_allowed(mount.source, self.check_policy()):
                raise InstallFailed(
                    deferred("The folder %(path)s does not exist on this machine; create it first.", path=mount.source)
                )
            path = Path(mount.source)
            missing = [p for p in (path, *path.parents) if not p.exists()]
            for folder in reversed(missing):
                self._record("dir", str(folder))
                folder.mkdir(exist_ok=True)

    def _create_container(self, spec: ContainerSpec, found) -> None:
        if found is not None and found.labels.get(L.CONFIG_HASH) == spec.labels.get(L.CONFIG_HASH):
            return  # made by an earlier attempt of this same install
        if found is not None:
            self.eng.remove(found.id, force=True)
        try:
            self.eng.create(spec)
            self._created.add(spec.name)
        except Conflict as exc:
            raise InstallFailed(deferred("A container named %(name)s already exists.", name=spec.name)) from exc

    # ------------------------------------------------------------------------ waiting
    def _wait_dependency(self, dep: Dependency) -> None:
        spec = self.project.container(dep.service)
        if dep.condition == "service_healthy":
            self._wait_healthy(spec)
        elif dep.condition == "service_completed_successfully":
            self._wait_completed(spec)

    def _wait_healthy(self, spec: ContainerSpec) -> None:
        """Until the container reports healthy; a container without a health check passes at once."""
        deadline = time.monotonic() + settings.APPS_HEALTH_TIMEOUT
        announced = False
        interval = next_check = 0.0
        while True:
            info = self.eng.inspect(spec.name)
            if info.health == "starting" and not interval:
                interval = self._health_interval(spec)
                next_check = time.monotonic() + interval
            elif info.health == "starting" and time.monotonic() >= next_check:
                # Where the engine does not schedule checks itself (Podman without systemd), run one now.
                with contextlib.suppress(Conflict, NotFound):  # stopped meanwhile: the next inspect says how
                    self.eng.run_healthcheck(spec.name)
                next_check = time.monotonic() + interval
                info = self.eng.inspect(spec.name)
            if info.health in ("", "healthy") and info.state not in ("exited", "dead"):
                return
            if info.health == "unhealthy" or info.state in ("exited", "dead", "restarting"):
                raise InstallFailed(
                    self._stopped_message(info)
                    if info.health != "unhealthy"
                    else deferred("%(service)s reports itself unhealthy.", service=spec.service)
                )
            if time.monotonic() > deadline:
                raise InstallFailed(
                    deferred(
                        "%(service)s did not become healthy within %(seconds)s seconds.",
                        service=spec.service,
                        seconds=settings.APPS_HEALTH_TIMEOUT,
                    )
                )
            if not announced:
                app_update(
                    self.inst, detail=deferred("Waiting for %(service)s to become healthy…", service=spec.service)
                )
                announced = True
            self.check_cancel()
            time.sleep(0.25)

    def _health_interval(self, spec: ContainerSpec) -> float:
        """Seconds between two checks as the engine spaces them: the compose file's (start_)interval, else the
        image's own HEALTHCHECK interval, else Docker's default."""
        hc = spec.healthcheck
        if hc is not None and (hc.start_interval or hc.interval):
            return float(hc.start_interval or hc.interval)
        try:
            nanos = (self.eng.container_config(spec.name).get("Config") or {}).get("Healthcheck", {}).get("Interval")
        except EngineError:
            nanos = 0
        return nanos / 1e9 if nanos else DEFAULT_HEALTH_INTERVAL

    def _wait_completed(self, spec: ContainerSpec) -> None:
        """Until a one-shot service has exited, successfully."""
        app_update(self.inst, detail=deferred("Waiting for %(service)s to finish…", service=spec.service))
        deadline = time.monotonic() + settings.APPS_HEALTH_TIMEOUT
        while True:
            info = self.eng.inspect(spec.name)
            if info.state in ("exited", "dead"):
                if info.exit_code == 0:
                    return
                raise InstallFailed(self._stopped_message(info))
            if time.monotonic() > deadline:
                raise InstallFailed(
                    deferred(
                        "%(service)s did not finish within %(seconds)s seconds.",
                        service=spec.service,
                        seconds=settings.APPS_HEALTH_TIMEOUT,
                    )
                )
            self.check_cancel()
            time.sleep(0.25)

    def _wait_web(self, port: int) -> None:
        """Until the web port gives an HTTP answer (any status: the app is up, whatever it says)."""
        began = time.monotonic()
        deadline = began + settings.APPS_WEB_TIMEOUT
        next_check, host = 0.0, web_host(eng=self.eng, project=self.project, port=port)
        while not _http_answers(port, host):
            if not next_check:  # most apps answer the first probe: the page hears of the wait only when there is one
                app_update(self.inst, detail=deferred("Waiting for the web interface on port %(port)s…", port=port))
            now = time.monotonic()
            if now > deadline:
                raise InstallFailed(
                    deferred(
                        "The web interface did not answer on port %(port)s within %(seconds)s seconds.",
                        port=port,
                        seconds=settings.APPS_WEB_TIMEOUT,
                    )
                )
            if now >= next_check:
                self._check_alive()
                self.check_cancel()
                next_check = now + CANCEL_CHECK
                host = web_host(eng=self.eng, project=self.project, port=port)  # a swarm task may have moved
            time.sleep(POLL_FIRST if now - began < 1 else POLL)

    def _check_alive(self) -> None:
        """Fail when a container stopped with an error, died or keeps restarting (exit code 0 is a finished job)."""
        for info in app_containers_of(eng=self.eng, name=self.inst.name):
            if info.state in ("dead", "restarting") or (info.state == "exited" and info.exit_code not in (0, None)):
                raise InstallFailed(self._stopped_message(info))

    def _stopped_message(self, info) -> str:
        """What the admin needs to act: which container, its exit code and its last words."""
        try:
            tail = [line for line in self.eng.logs(info.id, tail=5) if line.strip()]
        except EngineError:
            tail = []
        service = info.labels.get(L.SERVICE, info.name)
        message = deferred(
            "%(service)s stopped right after starting (exit code %(code)s).",
            service=service,
            code="?" if info.exit_code is None else info.exit_code,
        )
        if tail:
            message = deferred_join(message, deferred("Its last output: %(output)s", output=" / ".join(tail)[-500:]))
        return message


def _http_answers(port: int, host: str = LOOPBACK) -> bool:
    """True once something speaks HTTP on the port (a proxy that accepts and hangs up does not count)."""
    conn = http.client.HTTPConnection(host, port, timeout=2)
    try:
        conn.request("GET", "/", headers={"User-Agent": "casaos-install-probe"})
        conn.getresponse().read(0)
    except (http.client.RemoteDisconnected, ConnectionError, TimeoutError, OSError):
        return False
    except http.client.HTTPException:
        return True  # it answered, just not in proper HTTP: still up
    finally:
        conn.close()
    return True
