"""What the container policy reads (Context) and what it answers (Finding)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

REFUSED = "refused"  # never allowed, whoever asks
HOST_ACCESS = "host_access"  # allowed only with an admin's explicit consent and a fresh step-up


@dataclass(frozen=True)
class Finding:
    """One payload value outside the allowlist, with the key and value at fault in plain words."""

    level: str  # REFUSED | HOST_ACCESS
    code: str  # the kind of access ("host_folder", "cap_add"...): the risk report's phrase
    key: str  # where in the payload, e.g. "HostConfig.Binds"
    value: str  # the value at fault, e.g. "/var"
    reason: str
    service: str = ""
    explicit: bool = False  # our own data, code or the engine itself: a consent must name `value`

    @property
    def id(self) -> str:
        """What a consent record holds: the same access in another service is the same access."""
        return f"{self.code}:{self.value}"

    @property
    def refused(self) -> bool:
        return self.level == REFUSED

    def as_dict(self) -> dict[str, object]:
        return {
            "level": self.level,
            "code": self.code,
            "key": self.key,
            "value": self.value,
            "reason": self.reason,
            "service": self.service,
            "explicit": self.explicit,
        }


@dataclass(frozen=True)
class Context:
    """What the allowlist depends on: the app's own objects and folder, the folders its installer may write."""

    app: str  # the app (compose project) name
    app_data: str  # the app's own data folder
    apps_root: str = ""  # where every app's folder lies: another app's folder there is not our own data
    writable_roots: tuple[str, ...] = ()  # folders the installing user may write in the file manager
    protected: tuple[tuple[str, str], ...] = ()  # (code, path): our data, our code, the engine's data and socket
    excluded: tuple[str, ...] = ()  # never writable through the file manager (system folders), even under a root
    containers: frozenset[str] = frozenset()  # this app's container names (filled from the project)
    volumes: frozenset[str] = frozenset()  # this app's own named volumes (filled from the project)
    networks: frozenset[str] = frozenset()  # networks the app declares, its own and external ones
    volume_owners: Mapping[str, str] = field(default_factory=dict)  # engine volume -> app or project owning it
    ulimits: Mapping[str, int] | None = None  # host hard limits by name (-1: unlimited); None: this process's


def refused(code: str, key: str, value: object, reason: str, service: str = "") -> Finding:
    return Finding(REFUSED, code, key, str(value), reason, service)


def host_access(code: str, key: str, value: object, reason: str, service: str = "", *, explicit=False) -> Finding:
    return Finding(HOST_ACCESS, code, key, str(value), reason, service, explicit)
