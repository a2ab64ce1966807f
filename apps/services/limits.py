"""Resource requests against this host's real resources, for every path that makes or changes an app.

A request above what the machine has (memory, swap, /dev/shm, CPUs) or without a process limit is refused with the
reason, unless an administrator overrides it explicitly (`override_limits`), which the audit log records. Store
apps are written for any machine, so theirs are lowered to what this one has instead (the app installs and runs as
it would, within what exists); the audit entry of the install lists what was lowered.
"""

from accounts.permissions import user_is_admin
from accounts.services import audit_record
from casaos_site.i18n import deferred
from runtime import HostResources
from runtime.compose import Project, load_yaml
from runtime.compose.limits import ResourceProblem, clamp_tree, resource_problems
from runtime.errors import EngineError

from .common import InstallError, engine, engine_words


def host_resources() -> HostResources:
    """The engine host's memory and CPUs (the engine not answering is a 503, as for every install)."""
    try:
        return engine().host_resources()
    except EngineError as exc:
        raise InstallError(
            deferred("The container engine does not answer (%(error)s).", error=engine_words(exc)), code="engine"
        ) from exc


def resources_check(
    *, project: Project, user, override: bool, request=None, before: Project | None = None
) -> list[ResourceProblem]:
    """Refuse requests above the host (those `before` already had stay allowed); an admin's override passes them
    and is audited. Returns what was let through."""
    host = host_resources()
    problems = _new(resource_problems(project, host), before, host)
    if not problems:
        return []
    if not override:
        raise InstallError(refusal(problems), code="limits")
    if not user_is_admin(user):
        raise InstallError(deferred("Only an administrator can allow more than this machine has."), code="forbidden")
    audit_record(
        actor=user,
        action="app.limits_override",
        request=request,
        target=project.name,
        details={"limits": "; ".join(str(p) for p in problems)},
    )
    return problems


def resources_clamp(compose: str, project: Project) -> tuple[str, list[ResourceProblem]]:
    """A store app's compose with requests above the host lowered to what it has, and what was lowered."""
    from .settings_edit import compose_dump  # settings_edit imports the installer, which imports this module

    problems = resource_problems(project, host_resources())
    if not problems:
        return compose, []
    return compose_dump(clamp_tree(load_yaml(compose), problems)), problems


def refusal(problems: list[ResourceProblem]) -> str:
    """The 400's message: every request at fault, and the way out."""
    return deferred(
        "This app asks for more than this machine has: %(problems)s. Lower it, or an administrator can allow it "
        "anyway (override_limits in the API, “Allow more than this machine has” on the page).",
        problems="; ".join(str(p) for p in problems),
    )


def _new(problems: list[ResourceProblem], before: Project | None, host: HostResources) -> list[ResourceProblem]:
    """The problems the running configuration did not have already (a settings edit of an app an admin allowed)."""
    if before is None:
        return problems
    old = {(p.service, p.key, p.asked) for p in resource_problems(before, host)}
    return [p for p in problems if (p.service, p.key, p.asked) not in old]
