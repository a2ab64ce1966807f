"""One error family for everything storage/host raises; subprocess errors never leak past it."""

from __future__ import annotations


class HostError(Exception):
    """A host storage operation failed; `stderr` carries the command's own words."""

    def __init__(self, message: str, *, argv: tuple[str, ...] = (), stderr: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.argv = argv
        self.stderr = stderr.strip()

    def __str__(self) -> str:
        return f"{self.message}: {self.stderr}" if self.stderr else self.message


class ToolMissing(HostError):
    """The program is not installed (scripts/setup.sh installs every one we call)."""


class CommandFailed(HostError):
    """The program ran and reported a failure (a non-zero exit status)."""

    def __init__(self, message: str, *, argv: tuple[str, ...] = (), stderr: str = "", returncode: int = 1) -> None:
        super().__init__(message, argv=argv, stderr=stderr)
        self.returncode = returncode


class CommandTimeout(HostError):
    """The program did not finish in time."""


class ParseError(HostError):
    """The program's output was not what its documented format says."""


class Busy(CommandFailed):
    """The filesystem is in use; `holders` lists the processes that keep it busy."""

    def __init__(self, message: str, *, argv=(), stderr: str = "", holders=()) -> None:
        super().__init__(message, argv=argv, stderr=stderr, returncode=32)
        self.holders = tuple(holders)
