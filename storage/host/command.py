"""The one place storage/host starts programs: argv lists, shell=False, C locale, a time limit, typed errors."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

from .errors import CommandFailed, CommandTimeout, HostError, ToolMissing

DEFAULT_TIMEOUT = 60
# Messages in English whatever the host's language: callers match a few of them (busy, not mounted).
_ENV = {**os.environ, "LC_ALL": "C", "LANG": "C"}


def run(
    argv: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    ok_codes: Sequence[int] = (0,),
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run argv and return its stdout; a status outside ok_codes raises CommandFailed with its stderr."""
    return run_full(argv, timeout=timeout, ok_codes=ok_codes, stdin=stdin, env=env).stdout


def run_full(
    argv: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    ok_codes: Sequence[int] | None = (0,),
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run argv; ok_codes=None accepts any status (smartctl's status is a bit mask the caller reads). A secret goes
    in through `stdin` or `env` (extra variables of the child), never argv: any user can read a command line."""
    argv = tuple(str(part) for part in argv)
    if shutil.which(argv[0]) is None:
        raise ToolMissing(f"{argv[0]} is not installed", argv=argv)
    try:
        done = subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**_ENV, **(env or {})},
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CommandTimeout(f"{argv[0]} did not finish within {timeout:g}s", argv=argv) from exc
    if ok_codes is not None and done.returncode not in ok_codes:
        stderr = done.stderr or done.stdout
        raise CommandFailed(f"{argv[0]} failed", argv=argv, stderr=stderr, returncode=done.returncode)
    return done


def absolute(path: str) -> str:
    """A path that cannot be read as an option: for the few programs that do not honour `--` (mkntfs, fusefat)."""
    if not str(path).startswith("/"):
        raise HostError(f"{path!r} is not an absolute path")
    return str(path)
