"""The risk report: what an app would be allowed to touch on this machine, in plain words.

A view over the container policy (runtime.policy through apps.services.policy): every host-access finding of the
app's engine payloads is a high flag, so what a person consents to on the store pages is exactly what the installer
enforces. Image warnings (floating tags, unknown registries) are added for information; they need no consent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from apps.services.policy import policy_findings
from apps.services.policy_words import phrase
from runtime.compose import ComposeError, load_project
from runtime.compose.model import Project
from runtime.policy import Finding

from .parsing.template import project_name, template_variables

HIGH = "high"  # host access: an admin's explicit consent and a fresh step-up
REFUSED = "refused"  # never allowed
WARNING = "warning"

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


@dataclass(frozen=True)
class RiskFlag:
    """One risky setting of one service; `reason` names the payload key and value."""

    code: str
    severity: str
    service: str = ""
    detail: str = ""
    reason: str = ""
    explicit: bool = False  # consent must name `detail` (our own data, code, the engine's)

    @property
    def phrase(self) -> str:
        return phrase(self.code)


@dataclass
class RiskReport:
    """Every flag of an app; high flags need an admin's explicit consent, refused ones are never installed."""

    flags: list[RiskFlag] = field(default_factory=list)

    @property
    def needs_consent(self) -> bool:
        return any(f.severity in (HIGH, REFUSED) for f in self.flags)

    @property
    def refused(self) -> list[RiskFlag]:
        return [f for f in self.flags if f.severity == REFUSED]

    @property
    def high(self) -> list[RiskFlag]:
        return [f for f in self.flags if f.severity in (HIGH, REFUSED)]

    @property
    def explicit(self) -> list[RiskFlag]:
        """Host paths a consent must name one by one."""
        return [f for f in self.flags if f.explicit]

    @property
    def warnings(self) -> list[RiskFlag]:
        return [f for f in self.flags if f.severity == WARNING]

    def phrases(self, severity: str | None = None) -> list[str]:
        """Distinct plain-words phrases, high ones first ("full control of Docker", "your whole disk")."""
        chosen = [f for f in self._ordered() if severity is None or f.severity == severity]
        return list(dict.fromkeys(f.phrase for f in chosen))

    def details(self) -> list[dict[str, str]]:
        """One row per distinct (phrase, detail) for the page: what, which value, which services, and why."""
        rows: dict[tuple[str, str], dict[str, str]] = {}
        for f in self._ordered():
            row = rows.setdefault((f.code, f.detail), {**asdict(f), "phrase": f.phrase, "services": ""})
            row["services"] = ", ".join(filter(None, dict.fromkeys([*row["services"].split(", "), f.service])))
        return list(rows.values())

    def _ordered(self) -> list[RiskFlag]:
        rank = {REFUSED: 0, HIGH: 1}
        return sorted(self.flags, key=lambda f: rank.get(f.severity, 2))

    def as_dict(self) -> dict:
        return {"needs_consent": self.needs_consent, "flags": [asdict(f) for f in self.flags]}

    @classmethod
    def from_dict(cls, data: dict | None) -> RiskReport:
        known = RiskFlag.__dataclass_fields__
        return cls(
            flags=[RiskFlag(**{k: v for k, v in f.items() if k in known}) for f in (data or {}).get("flags", [])]
        )


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


def _flag(finding: Finding) -> RiskFlag:
    severity = REFUSED if finding.refused else HIGH
    return RiskFlag(finding.code, severity, finding.service, finding.value, finding.reason, finding.explicit)


def risk_of_project(project: Project, *, user=None, app: str = "") -> RiskReport:
    """The report of a translated project, for `user` (None: an admin, whose writable folder is the files root)."""
    findings = policy_findings(project=project, app=app or project.name, user=user)
    images = [flag for c in project.containers for flag in _image_flags(c.service, c.image)]
    return RiskReport(flags=[*map(_flag, findings), *images])


def unchecked_report(reason: str) -> RiskReport:
    """A template we could not translate before its install values exist: it fails closed until then."""
    return RiskReport(flags=[RiskFlag("analysis_failed", HIGH, "", reason[:300])])


def risk_of_compose(compose: str, *, app_id: str, variables: dict[str, str] | None = None, user=None) -> RiskReport:
    """Translate a compose file the way the installer will (with the variables the person set), then report;
    a file we cannot read fails closed."""
    values = {**template_variables(app_id), **(variables or {}), "AppID": app_id}  # as the installer merges them
    try:
        # A required value not typed yet reads as "" (the form asks for it; the installer refuses without it).
        project = load_project(compose, variables=values, project_name=project_name(app_id), collect_required=True)
    except ComposeError as exc:
        return RiskReport(flags=[RiskFlag("analysis_failed", HIGH, "", str(exc)[:300])])
    return risk_of_project(project, user=user)
