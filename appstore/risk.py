"""The risk report: what an app would be allowed to touch on this machine, in plain words.

Computed from the *translated* project (runtime.compose), never from how the compose file spells things, so
`privileged: "true"`, long-syntax binds, named volumes that are really binds and `CAP_SYS_ADMIN` all count.
"""

from __future__ import annotations

import posixpath
from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext_lazy as _

from runtime.compose import ComposeError, exposure, load_project
from runtime.compose.model import Project

from .parsing.template import project_name, template_variables

HIGH = "high"
WARNING = "warning"

ENGINE_SOCKET_NAMES = ("docker.sock", "podman.sock", "containerd.sock", "crio.sock")
ENGINE_DIRS = (
    "/run",
    "/var/run",
    "/run/docker",
    "/var/run/docker",
    "/run/podman",
    "/var/run/podman",
    "/run/containerd",
    "/var/run/containerd",
    "/var/lib/docker",
    "/var/lib/containers",
)
SYSTEM_DIRS = (
    "/etc",
    "/root",
    "/boot",
    "/proc",
    "/sys",
    "/dev",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/var/lib",
    "/var/run",
    "/run",
    "/var/log",
    "/var/spool",
)
DANGEROUS_CAPS = {
    "ALL",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_PTRACE",
    "SYS_BOOT",
    "SYS_TIME",
    "NET_ADMIN",
    "DAC_READ_SEARCH",
    "DAC_OVERRIDE",
    "SETFCAP",
    "MKNOD",
    "BPF",
    "PERFMON",
    "SYS_RESOURCE",
}
KNOWN_REGISTRIES = {
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "ghcr.io",
    "lscr.io",
    "quay.io",
    "gcr.io",
    "mcr.microsoft.com",
    "registry.gitlab.com",
    "public.ecr.aws",
    "codeberg.org",
    "docker.elastic.co",
    "registry.k8s.io",
    "nvcr.io",
}

# What each flag means for the person installing, as the end of "This app asks for: ...".
PHRASES = {
    "privileged": _("full control of this machine (privileged mode)"),
    "engine_socket": _("full control of Docker"),
    "root_bind": _("your whole disk"),
    "system_bind": _("system folders of this machine"),
    "host_network": _("this machine's network (host network)"),
    "host_pid": _("every process on this machine (host PID)"),
    "host_ipc": _("this machine's shared memory (host IPC)"),
    "host_userns": _("to run without user isolation (host user namespace)"),
    "host_cgroup": _("this machine's control groups (host cgroup namespace)"),
    "unconfined": _("to run without its security profile (AppArmor or seccomp off)"),
    "cap_add": _("extra kernel powers"),
    "devices": _("hardware devices"),
    "gpu": _("the graphics card (GPU)"),
    "latest_image": _("an image that can change without notice (latest or no tag)"),
    "unknown_registry": _("images from a registry we do not know"),
    "analysis_failed": _("settings we could not check"),
}


@dataclass(frozen=True)
class RiskFlag:
    """One risky setting of one service."""

    code: str
    severity: str
    service: str = ""
    detail: str = ""

    @property
    def phrase(self) -> str:
        return str(PHRASES.get(self.code, self.code))


@dataclass
class RiskReport:
    """Every flag of an app; high flags need an admin's explicit consent."""

    flags: list[RiskFlag] = field(default_factory=list)

    @property
    def needs_consent(self) -> bool:
        return any(f.severity == HIGH for f in self.flags)

    @property
    def high(self) -> list[RiskFlag]:
        return [f for f in self.flags if f.severity == HIGH]

    @property
    def warnings(self) -> list[RiskFlag]:
        return [f for f in self.flags if f.severity != HIGH]

    def phrases(self, severity: str | None = None) -> list[str]:
        """Distinct plain-words phrases, high ones first ("full control of Docker", "your whole disk")."""
        ordered = sorted(self.flags, key=lambda f: f.severity != HIGH)
        chosen = [f for f in ordered if severity is None or f.severity == severity]
        return list(dict.fromkeys(f.phrase for f in chosen))

    def details(self) -> list[dict[str, str]]:
        """One row per distinct (phrase, detail) for the page: what, which service, which value."""
        rows: dict[tuple[str, str], dict[str, str]] = {}
        for f in sorted(self.flags, key=lambda f: f.severity != HIGH):
            row = rows.setdefault(
                (f.code, f.detail),
                {"code": f.code, "severity": f.severity, "phrase": f.phrase, "detail": f.detail, "services": ""},
            )
            row["services"] = ", ".join(filter(None, dict.fromkeys([*row["services"].split(", "), f.service])))
        return list(rows.values())

    def as_dict(self) -> dict:
        return {"needs_consent": self.needs_consent, "flags": [asdict(f) for f in self.flags]}

    @classmethod
    def from_dict(cls, data: dict | None) -> RiskReport:
        return cls(flags=[RiskFlag(**f) for f in (data or {}).get("flags", [])])


def _under(path: str, roots: tuple[str, ...]) -> str | None:
    path = posixpath.normpath(path)
    return next((r for r in roots if path == r or path.startswith(r.rstrip("/") + "/")), None)


def _bind_flags(service: str, source: str) -> list[RiskFlag]:
    source = posixpath.normpath(source)
    if source == "/":
        return [RiskFlag("root_bind", HIGH, service, source)]
    if posixpath.basename(source) in ENGINE_SOCKET_NAMES or source in ENGINE_DIRS:
        return [RiskFlag("engine_socket", HIGH, service, source)]
    if _under(source, SYSTEM_DIRS):
        return [RiskFlag("system_bind", HIGH, service, source)]
    return []


def split_image(ref: str) -> tuple[str, str, str]:
    """(registry, tag, digest) of an image reference; Docker Hub when no registry is named."""
    name, _, digest = ref.partition("@")
    first, slash, _rest = name.partition("/")
    registry = first if slash and ("." in first or ":" in first or first == "localhost") else "docker.io"
    last = name.rsplit("/", 1)[-1]
    tag = last.rpartition(":")[2] if ":" in last else ""
    return registry.lower(), tag, digest


def _image_flags(service: str, image: str) -> list[RiskFlag]:
    registry, tag, digest = split_image(image)
    flags = []
    if not digest and tag in ("", "latest"):
        flags.append(RiskFlag("latest_image", WARNING, service, image))
    if registry not in KNOWN_REGISTRIES:
        flags.append(RiskFlag("unknown_registry", WARNING, service, registry))
    return flags


def _namespace_flags(svc) -> list[RiskFlag]:
    pairs = (
        ("host_network", svc.network_mode),
        ("host_pid", svc.pid),
        ("host_ipc", svc.ipc),
        ("host_userns", svc.userns_mode),
        ("host_cgroup", svc.cgroup),
    )
    return [RiskFlag(code, HIGH, svc.service, "host") for code, value in pairs if value == "host"]


def _service_flags(svc) -> list[RiskFlag]:
    flags = [RiskFlag("privileged", HIGH, svc.service)] if svc.privileged else []
    flags += _namespace_flags(svc)
    for mount in svc.binds:
        flags += _bind_flags(svc.service, mount.source)
    for cap in svc.cap_add:
        flags.append(RiskFlag("cap_add", HIGH if cap in DANGEROUS_CAPS else WARNING, svc.service, cap))
    flags += [RiskFlag("devices", HIGH, svc.service, d.host_path) for d in svc.devices]
    if svc.device_requests:
        flags.append(RiskFlag("gpu", WARNING, svc.service))
    for opt in svc.security_opt:
        if opt.replace("=", ":").lower() in ("apparmor:unconfined", "seccomp:unconfined", "label:disable"):
            flags.append(RiskFlag("unconfined", HIGH, svc.service, opt))
    return flags + _image_flags(svc.service, svc.image)


def risk_of_project(project: Project) -> RiskReport:
    """The report of a translated project."""
    return RiskReport(flags=[flag for svc in exposure(project) for flag in _service_flags(svc)])


def unchecked_report(reason: str) -> RiskReport:
    """A template we could not translate before its install values exist: it fails closed until then."""
    return RiskReport(flags=[RiskFlag("analysis_failed", HIGH, "", reason[:300])])


def risk_of_compose(compose: str, *, app_id: str, variables: dict[str, str] | None = None) -> RiskReport:
    """Translate a compose file the way the installer will (with the variables the person set), then report;
    a file we cannot read fails closed."""
    values = {**template_variables(app_id), **(variables or {}), "AppID": app_id}  # as the installer merges them
    try:
        # A required value not typed yet reads as "" (the form asks for it; the installer refuses without it).
        project = load_project(compose, variables=values, project_name=project_name(app_id), collect_required=True)
    except ComposeError as exc:
        return RiskReport(flags=[RiskFlag("analysis_failed", HIGH, "", str(exc)[:300])])
    return risk_of_project(project)
