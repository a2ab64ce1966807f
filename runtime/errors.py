"""One error family for everything runtime/ raises; SDK exceptions never leak past it."""

from __future__ import annotations


class EngineError(Exception):
    """Base for engine failures; `permanent=False` means a retry may heal it."""

    permanent_default = False
    # Our own words (not the engine's): an English template with %(name)s parameters, which the web side translates
    # for each reader (casaos_site.i18n; makemessages extracts `worded(...)`). Empty: the message is the engine's.
    template: str = ""
    params: dict

    def __init__(self, message: str, permanent: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = self.permanent_default if permanent is None else permanent
        self.params = {}

    @classmethod
    def worded(cls, template: str, /, *, permanent: bool | None = None, **params: object) -> EngineError:
        """An error in our words: `message` is the English text, `template` and `params` what a reader translates."""
        error = cls(template % params, permanent)
        error.template, error.params = template, params
        return error


class EngineUnavailable(EngineError):
    """The engine socket does not answer (daemon down, wrong path): retry later."""


class EngineRace(EngineError):
    """The engine tripped over a change it raced with (a host interface vanished while it read them): ask again."""


class NotFound(EngineError):
    """A container, network, volume or exec session does not exist."""

    permanent_default = True


class ImageNotFound(NotFound):
    """The image (or its tag) does not exist in the registry or locally."""


class Conflict(EngineError):
    """A name is taken or the object is in a state that forbids the action."""

    permanent_default = True


class PortInUse(Conflict):
    """A published host port is already bound by something else."""


class SubnetTaken(Conflict):
    """The engine refused a network's subnet: another network (or a host route) overlaps it."""


class PoolExhausted(EngineError):
    """No free subnet is left in the app network pool."""

    permanent_default = True


class InvalidSpec(EngineError):
    """The engine rejected the request as malformed (HTTP 400)."""

    permanent_default = True


class ComposeError(ValueError):
    """A compose file is invalid or uses something we do not support; `path` names the key. A YAML error also
    says where: `line` and `column` (from 1) and `source_line`, the text of that line (0 and "" otherwise)."""

    def __init__(self, message: str, path: str = "", *, line: int = 0, column: int = 0, source_line: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message
        self.line, self.column, self.source_line = line, column, source_line
