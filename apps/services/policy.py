"""The container policy (runtime.policy) applied to apps: this machine's context, consent, and its record.

Every path that reaches the engine passes here twice: `policy_gate` when the request comes in (a clear refusal,
nothing queued) and `policy_enforce` in the task right before anything is created. Each configuration an app runs
with has a consent record on the installation: who approved it, when, and which host access it holds; a change that
adds host access needs a new consent, and the record moves on only once the change is applied.
"""

import functools
from collections.abc import Collection, Iterable
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.permissions import request_stepped_up, user_is_admin
from casaos_site.i18n import deferred
from files.paths import base_available, files_root, user_bases
from runtime import labels as L
from runtime.compose import ComposeError, Project, load_project
from runtime.errors import EngineError
from runtime.policy import ANY, Context, Finding, check_project, real, uncovered
from storage.selectors import mounted_roots

from ..models import Installation
from .common import ConsentRequired, InstallFailed, PolicyError, engine
from .policy_words import phrases

ENGINE_DATA = ("/var/lib/docker", "/var/lib/containers")
ENGINE_SOCKETS = ("/var/run/docker.sock", "/run/podman/podman.sock", "/run/containerd/containerd.sock")


# ---------------------------------------------------------------------------- the context of this machine
def apps_data_root() -> str:
    """Where apps keep their folders (CasaOS: /DATA/AppData)."""
    return str(getattr(settings, "APPS_DATA_ROOT", settings.APPSTORE_APPS_DATA_ROOT))


def app_data_folder(app: str) -> str:
    """The app's own folder, under the apps data root (CasaOS: /DATA/AppData/<app>)."""
    return str(Path(apps_data_root()) / app)


def policy_context(*, app: str, user, project: Project | None = None) -> Context:
    """What the allowlist depends on, for this app and whoever configures it (None: an admin's view)."""
    return Context(
        app=app,
        app_data=app_data_folder(app),
        apps_root=apps_data_root(),
        writable_roots=_writable_roots(user),
        protected=_protected(),
        excluded=tuple(str(p) for p in settings.FILES_PROTECTED),
        volume_owners=_volume_owners(project) if project else {},
    )


def _writable_roots(user) -> tuple[str, ...]:
    """The folders the user may write in the file manager (an admin: the whole files root and every disk and pool
    we mounted: only our own mounts, never any folder under the media root)."""
    if user is None or user_is_admin(user):
        return (str(files_root()), *(target for _name, target in mounted_roots()), *_mounted_remotes())
    if not getattr(user, "pk", None):
        return ()
    # A granted folder of a disk that is not mounted now is its empty mount point on the system disk: left out.
    return tuple(str(base.real) for base in user_bases(user).values() if base.writable and base_available(base))


def _mounted_remotes() -> list[str]:
    """The folders of network shares and cloud drives (remotes/) mounted now: a place for app data like a disk. Not
    one whose mount is gone: the folder would be an empty directory on the system disk."""
    from files.roots import remote_roots
    from storage.host.mount import is_mounted

    return [str(root.path) for root in remote_roots() if not root.problem and is_mounted(str(root.path))]


def _protected() -> tuple[tuple[str, str], ...]:
    socket = settings.ENGINE_URL.removeprefix("unix://") if settings.ENGINE_URL.startswith("unix://") else ""
    pairs = [("casaos_data", str(settings.DATA_DIR)), ("casaos_code", str(settings.BASE_DIR))]
    pairs += [("engine_data", p) for p in (*ENGINE_DATA, _engine_data_root(settings.ENGINE_URL)) if p]
    pairs += [("engine_socket", p) for p in (*ENGINE_SOCKETS, socket) if p]
    return tuple(dict.fromkeys(pairs))


@functools.cache
def _engine_data_root(url: str) -> str:
    """Asked once per engine (an engine that does not answer is asked again next time)."""
    try:
        return engine().data_root()
    except EngineError:
        _engine_data_root.cache_clear()
        return ""


def _volume_owners(project: Project) -> dict[str, str]:
    """The app (or compose project) owning each external volume the project uses; "" for a volume of no app."""
    names = {v.name for v in project.volumes if v.external}
    if not names:
        return {}
    try:
        volumes = engine().list_volumes({})
    except EngineError:
        return {}  # unknown owners count as "not this app's": consent, and the task looks again
    return {v.name: v.labels.get(L.APP) or v.labels.get(L.PROJECT) or "" for v in volumes if v.name in names}


def policy_findings(*, project: Project, app: str, user) -> list[Finding]:
    """Every finding of the project's payloads in this machine's context."""
    return check_project(project, policy_context(app=app, user=user, project=project))


# ---------------------------------------------------------------------------- at request time
def policy_gate(
    *,
    project: Project,
    app: str,
    user,
    consent: bool,
    named: Iterable[str] = (),
    request=None,
    held: Collection[str] = (),
    operation: str = "install",
) -> dict:
    """Refuse what is never allowed; new host access (not in `held`) needs an admin, consent (naming our own data,
    code and the engine's) and a fresh step-up. Returns the consent record the configuration will run under."""
    findings = policy_findings(project=project, app=app, user=user)
    never = [f for f in findings if f.refused]
    if never:
        raise PolicyError(
            deferred("This app asks for something never allowed: %(reasons)s.", reasons=_reasons(never)),
            code="policy",
            findings=never,
        )
    access = [f for f in findings if not f.refused]
    new = uncovered(access, held)
    if new:
        _consent_check(new, user=user, consent=consent, named=named, request=request)
    return consent_record(access, user=user, operation=operation)


def _consent_check(new: list[Finding], *, user, consent: bool, named: Iterable[str], request) -> None:
    if not user_is_admin(user):
        raise PolicyError(
            deferred(
                "Only an administrator can give an app access to this machine: %(phrases)s.",
                phrases=", ".join(phrases(new)),
            ),
            code="forbidden",
            findings=new,
            flags=phrases(new),
        )
    if not consent:
        raise ConsentRequired(
            deferred(
                "This app asks for access to this machine: %(phrases)s. Review it and confirm below.",
                phrases=", ".join(phrases(new)),
            ),
            flags=phrases(new),
            findings=new,
        )
    unnamed = _unnamed(new, named)
    if unnamed:
        raise ConsentRequired(
            deferred(
                "Tick each of these by name to give it to the app (API: consent_paths): %(values)s.",
                values=", ".join(f.value for f in unnamed),
            ),
            flags=phrases(unnamed),
            findings=unnamed,
        )
    if request is None or not request_stepped_up(request):
        raise ConsentRequired(
            deferred("Confirm your password again (step-up) before giving an app access to this machine."),
            flags=phrases(new),
            findings=new,
            stepup=True,
        )


def _unnamed(findings: list[Finding], named: Iterable[str]) -> list[Finding]:
    """Explicit findings (our data, code, the engine) whose path the consent does not name."""
    names = {real(str(n)) for n in named if str(n).strip()}
    return [f for f in findings if f.explicit and real(f.value) not in names]


def _reasons(findings: list[Finding]) -> str:
    return "; ".join(dict.fromkeys(f.reason for f in findings))


def consent_record(access: list[Finding], *, user, operation: str) -> dict:
    """Who approved a configuration, when, and the host access it holds."""
    return {
        "items": sorted({f.id for f in access}),
        "by": user.get_username() if user is not None and user.pk else "",
        "by_id": getattr(user, "pk", None),
        "at": timezone.now().isoformat(),
        "operation": operation,
    }


# ---------------------------------------------------------------------------- the record
def consent_latest(inst: Installation) -> dict:
    """The record of the configuration the app runs with ({} for none)."""
    return inst.consents[-1] if inst.consents else {}


def consent_held(inst: Installation, *, user=None) -> set[str]:
    """Host access the app's running configuration was given; an app from before records holds what it has now."""
    items = set(consent_latest(inst).get("items") or ())
    if ANY not in items:
        return items
    try:
        project = load_project(inst.compose, variables=inst.variables, project_name=inst.name)
    except ComposeError:
        return set()
    return {f.id for f in policy_findings(project=project, app=inst.name, user=user) if not f.refused}


def consent_named(inst: Installation) -> list[str]:
    """The explicit paths the running configuration was given (a retry names them again)."""
    return [item.partition(":")[2] for item in consent_held(inst) if item.partition(":")[0] in _EXPLICIT]


_EXPLICIT = ("casaos_data", "casaos_code", "engine_data", "engine_socket", "root_bind")


def consent_commit(*, inst: Installation, record: dict | None) -> None:
    """The change `record` approved is applied: it is now the app's record."""
    if record:
        inst.consents = [*inst.consents, record]
        Installation.objects.filter(pk=inst.pk).update(consents=inst.consents)


# ---------------------------------------------------------------------------- in the task
def policy_enforce(*, inst: Installation, project: Project, record: dict | None = None) -> Context:
    """Check again right before the engine is asked: anything refused, or host access the record (or the pending
    change's `record`) does not hold, fails the operation. Returns the context (the installer creates folders by it)."""
    record = record or consent_latest(inst)
    ctx = policy_context(app=inst.name, user=_approver(record), project=project)
    bad = uncovered(check_project(project, ctx), set(record.get("items") or ()))
    if bad:
        raise InstallFailed(deferred("Refused by the container policy: %(reasons)s.", reasons=_reasons(bad)))
    return ctx


def _approver(record: dict):
    """The user who approved the configuration (whose writable folders count); gone: one who may write nowhere."""
    user = get_user_model().objects.filter(pk=record.get("by_id")).first() if record.get("by_id") else None
    return user if user is not None else AnonymousUser()
