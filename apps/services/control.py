"""Start, stop and restart an installed app (all its containers, in dependency order), as locked operations.

Starting reuses the install pipeline's own steps (pull what is missing, create by config hash, start in
dependency order, wait for health and the web port), so there is one container-creation path.
"""

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext_lazy

from accounts.services import audit_record
from casaos_site.i18n import deferred, fitted
from casaos_site.queues import operation_queue as operation_queue_name
from runtime import ContainerInfo, Engine, PullAggregator
from runtime.compose import ComposeError, Project
from runtime.errors import EngineError, EngineUnavailable, NotFound

from ..models import AppEvent, AppLock, Installation
from ..selectors import app_containers_of
from .common import DETAIL_CHARS, InstallError, InstallFailed, app_update, engine_for, engine_words, error_stored
from .install import app_project
from .operation import OperationPending, lock_heartbeat, operation_begin, operation_end
from .pipeline import _Run
from .restart_loop import restart_loop_clear
from .status import app_status_with_loops

log = logging.getLogger(__name__)
Outcome = AppEvent.Outcome
ACTIONS = {"start": gettext_lazy("Start"), "stop": gettext_lazy("Stop"), "restart": gettext_lazy("Restart")}
# What a runner returns: outcome, message for the history and the page, extra details to keep.
Result = tuple[str, str, dict]


class AppApply(_Run):
    """The pipeline's steps run on an installed app: progress goes to `detail`, the status stays the listener's.

    With `refresh`, every image is pulled again (an update), not only the missing ones.
    """

    def __init__(
        self, inst: Installation, eng: Engine, project: Project, *, refresh: bool = False, record: dict | None = None
    ) -> None:
        super().__init__(inst, eng, project, record=record)
        self.refresh = refresh

    def pull(self) -> None:
        self.check_policy()
        if not self.refresh:
            super().pull()
            return
        self.step(Installation.Status.PULLING, deferred("Downloading new images…"))
        images = [i for i in self.project.images if self.project.pull_policy(i) != "never"]  # kept as they are
        self._pull_all(images, PullAggregator(tuple(images), self._on_progress))
        self._save_progress(force=True)

    def step(self, status: str, detail: str) -> None:
        app_update(self.inst, detail=detail)

    def check_cancel(self, *, force: bool = False) -> None:
        """Operations on an installed app are not cancelled (a rollback is what undoes them)."""

    def bring_up(self) -> None:
        """Pull what is missing, (re)create what changed, start in order, wait until ready."""
        self.pull()
        self.create()
        self.start()
        self.wait_ready()


def app_control(*, user, installation: Installation, action: str, request=None) -> AppEvent:
    """Queue a start, stop or restart; AppBusy when another operation runs on the app."""
    if action not in ACTIONS:
        raise InstallError(deferred("Unknown action %(action)s.", action=action), code="action")
    return operation_queue(user=user, installation=installation, operation=action, request=request)


def operation_queue(
    *,
    user,
    installation: Installation,
    operation: str,
    request=None,
    details: dict | None = None,
    allowed=Installation.SETTLED,
) -> AppEvent:
    """Lock the app, open its history line and queue the work once both are committed."""
    from ..tasks import app_operation

    with transaction.atomic():
        event = operation_begin(
            installation=installation, operation=operation, user=user, details=details, allowed=allowed
        )
        audit_record(
            actor=user,
            action=f"app.{operation}",
            request=request,
            target=installation.name,
            details={k: v for k, v in (details or {}).items() if k in ("delete_data", "services")},
        )
        app_update(installation, detail=deferred("Queued: %(operation)s…", operation=operation), publish_state=False)
        queue = operation_queue_name(operation)  # an uninstall or update must not take a short operation's slot
        transaction.on_commit(lambda: app_operation.apply_async((event.pk,), queue=queue))
    return event


def app_operation_run(*, event_id: int) -> AppEvent | None:
    """Run a queued operation (the Celery task calls this); a second call for the same event does nothing."""
    event = AppEvent.objects.select_related("installation").filter(pk=event_id, outcome=Outcome.STARTED).first()
    if event is None or not AppLock.objects.filter(installation_id=event.installation_id).exists():
        return None
    inst = event.installation
    eng = engine_for(inst)
    with lock_heartbeat(inst.pk):
        try:
            outcome, message, details = _runners()[event.operation](event=event, inst=inst, eng=eng)
        except OperationPending as exc:
            # The lock stays without a heartbeat: operation_reconcile takes the change over (once the engine is back).
            app_update(inst, detail=fitted(str(exc), DETAIL_CHARS))
            return None
        except EngineUnavailable as exc:
            outcome, message, details = (
                Outcome.FAILED,
                deferred("The container engine does not answer (%(error)s).", error=engine_words(exc)),
                {},
            )
        except (InstallFailed, ComposeError, InstallError) as exc:
            outcome, message, details = Outcome.FAILED, error_stored(exc), {}
        except EngineError as exc:
            outcome, message, details = Outcome.FAILED, engine_words(exc), {}
        except Exception as exc:
            log.exception("%s of %s failed unexpectedly", event.operation, inst.name)
            outcome, message, details = Outcome.FAILED, deferred("Unexpected error: %(error)s", error=exc), {}
    if Installation.objects.filter(pk=inst.pk).exists():  # an uninstall removes the row itself
        app_settle(inst, eng, error="" if outcome == Outcome.DONE else message)
    return operation_end(event=event, outcome=outcome, message=message, details=details)


def app_settle(inst: Installation, eng: Engine, *, error: str = "") -> Installation:
    """Record the status the containers show now, with the last error (or none)."""
    try:
        status, detail, loops = app_status_with_loops(inst, app_containers_of(eng=eng, name=inst.name))
    except EngineError:
        status, detail, loops = inst.status, deferred("The container engine does not answer."), inst.restart_loop
    return app_update(inst, status=status, detail=detail, restart_loop=loops, error=error)


# ---------------------------------------------------------------------------- runners
def run_start(*, event: AppEvent, inst: Installation, eng: Engine) -> Result:
    """Bring every container up in dependency order and wait until the app answers (a container halted in a
    restart loop gets its restart policy back first)."""
    project = app_project(installation=inst)
    restart_loop_clear(inst=inst, eng=eng, project=project)
    AppApply(inst, eng, project).bring_up()
    return Outcome.DONE, deferred("Started."), {}


def run_stop(*, event: AppEvent, inst: Installation, eng: Engine) -> Result:
    """Stop the app's containers, dependants first."""
    app_update(inst, detail=deferred("Stopping…"))
    stop_all(inst, eng, _project_or_none(inst))
    return Outcome.DONE, deferred("Stopped."), {}


def run_restart(*, event: AppEvent, inst: Installation, eng: Engine) -> Result:
    """Stop everything (dependants first), then start in dependency order and wait until ready."""
    project = app_project(installation=inst)
    app_update(inst, detail=deferred("Stopping…"))
    stop_all(inst, eng, project)
    restart_loop_clear(inst=inst, eng=eng, project=project)
    AppApply(inst, eng, project).bring_up()
    return Outcome.DONE, deferred("Restarted."), {}


def stop_all(inst: Installation, eng: Engine, project: Project | None) -> None:
    """Stop running containers in reverse start order; containers the project no longer names go first."""
    for info in containers_in_order(eng, inst.name, project, reverse=True):
        if info.running or info.state == "restarting":
            grace = _grace(project, info)
            try:
                eng.stop(info.id, timeout=grace)
            except NotFound:
                continue


def containers_in_order(
    eng: Engine, name: str, project: Project | None, *, reverse: bool = False
) -> list[ContainerInfo]:
    """The app's containers in the project's start order (or its reverse)."""
    order = {spec.name: i for i, spec in enumerate(project.containers)} if project else {}
    found = sorted(
        app_containers_of(eng=eng, name=name), key=lambda c: order.get(c.name, -1 if reverse else len(order))
    )
    return list(reversed(found)) if reverse else found


def _grace(project: Project | None, info: ContainerInfo) -> float | None:
    if project is None:
        return None
    spec = next((s for s in project.containers if s.name == info.name), None)
    return spec.stop_grace_period if spec else None


def _project_or_none(inst: Installation) -> Project | None:
    try:
        return app_project(installation=inst)
    except ComposeError:
        return None


def _runners() -> dict[str, Callable[..., Result]]:
    from . import settings_edit, uninstall, update

    return {
        "start": run_start,
        "stop": run_stop,
        "restart": run_restart,
        "settings": settings_edit.run_settings,
        "update": update.run_update,
        "uninstall": uninstall.run_uninstall,
    }
