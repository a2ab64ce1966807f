"""rclone: a config file of our own per remote (0600), a reachability probe, `rclone mount --daemon`, sync and bisync.

Plain Python, no Django. The config's one section is always called `remote`: a user's name never reaches the
config's syntax, and every value is checked for line breaks (a value with one could add keys or sections).
Passwords are obscured by `rclone obscure -` reading them from stdin: never on a command line.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from storage.host.command import _ENV, absolute, run
from storage.host.errors import CommandFailed, CommandTimeout, HostError
from storage.host.mount import wait_mounted

SECTION = "remote"
KEY = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
# A server that does not answer: the remote is "missing" and retried, not "failed".
UNREACHABLE = (
    "connection refused",
    "no route to host",
    "i/o timeout",
    "no such host",
    "network is unreachable",
    "connection reset",
    "timeout",
    "host is down",
)


@dataclass(frozen=True)
class RcloneRemote:
    """What rclone needs for one remote: its backend's settings (secrets already obscured) and where things go."""

    config: dict[str, str]
    config_path: Path
    path: str = ""  # the folder of the remote that is mounted or synced ("" for its top)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def spec(self) -> str:
        return f"{SECTION}:{self.path}"


def check_value(value: str) -> str:
    """A config value on one line: a line break or a NUL would start a key or a section of its own."""
    if any(ch in value for ch in "\r\n\x00") or any(ord(ch) < 32 for ch in value):
        raise HostError("a setting holds a control character")
    return value


def config_text(config: dict[str, str]) -> str:
    lines = [f"[{SECTION}]"]
    for key, value in config.items():
        if not KEY.match(key):
            raise HostError(f"{key!r} is not an rclone option name")
        lines.append(f"{key} = {check_value(str(value))}")
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str) -> None:
    """A file only its owner reads (0600) in a folder only its owner opens (0700), made with that mode at once."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.chmod(0o700)
    tmp = path.with_name(path.name + ".new")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    tmp.replace(path)


def write_config(remote: RcloneRemote) -> None:
    write_private(remote.config_path, config_text(remote.config))


def obscure(secret: str, rclone: str = "rclone") -> str:
    """rclone's reversible obscuring of a password for its config file (the secret goes in on stdin)."""
    check_value(secret)
    return run([rclone, "obscure", "-"], stdin=secret + "\n", timeout=30).strip()


def _base(remote: RcloneRemote, rclone: str) -> list[str]:
    return [rclone, "--config", absolute(str(remote.config_path))]


def _timeouts(seconds: int) -> list[str]:
    return ["--contimeout", f"{seconds}s", "--timeout", f"{seconds * 2}s", "--retries", "1", "--low-level-retries", "1"]


def probe(remote: RcloneRemote, *, seconds: int, rclone: str = "rclone") -> None:
    """List the remote's top folder once: wrong credentials or a missing server fail here, before any mount."""
    argv = [*_base(remote, rclone), "lsf", "--max-depth", "1", *_timeouts(seconds), "--", remote.spec]
    run(argv, timeout=seconds * 4 + 5, env=remote.env)


def unreachable(exc: HostError) -> bool:
    """Whether a failure says the server did not answer (as opposed to refusing us)."""
    text = str(exc).lower()
    return any(words in text for words in UNREACHABLE)


def mount_argv(
    remote: RcloneRemote, *, target: str, devname: str, cache_dir: str, log_file: str, rclone: str = "rclone"
) -> list[str]:
    """`rclone mount --daemon`: the daemon outlives the worker that started it; mountinfo tells whether it runs."""
    return [
        *_base(remote, rclone),
        "mount",
        "--daemon",
        "--daemon-wait",
        "20s",
        "--devname",
        devname,
        "--allow-other",
        "--vfs-cache-mode",
        "writes",
        "--cache-dir",
        absolute(cache_dir),
        "--dir-cache-time",
        "10s",
        "--log-file",
        absolute(log_file),
        "--log-level",
        "NOTICE",
        "--",
        remote.spec,
        absolute(target),
    ]


def mount(remote: RcloneRemote, *, target: str, devname: str, cache_dir: str, log_file: str, rclone: str) -> None:
    Path(target).mkdir(parents=True, exist_ok=True)
    Path(cache_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    argv = mount_argv(remote, target=target, devname=devname, cache_dir=cache_dir, log_file=log_file, rclone=rclone)
    _run_daemon(argv, env=remote.env, log_file=Path(log_file))
    wait_mounted(target)


def _run_daemon(argv: list[str], *, env: dict[str, str], log_file: Path, timeout: float = 40) -> None:
    """Start a `--daemon` command: its output goes to its log file, never to pipes (the daemon would hold them
    open, and a caller reading them would wait for it to end); the parent's status says whether the mount came up."""
    log_file.unlink(missing_ok=True)
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**_ENV, **env}, timeout=timeout, check=False)  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise CommandTimeout(f"{argv[0]} mount did not finish within {timeout:g}s", argv=tuple(argv)) from exc
    if done.returncode != 0:
        words = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
        raise CommandFailed(f"{argv[0]} mount failed", argv=tuple(argv), stderr=words, returncode=done.returncode)


def unmount(target: str) -> None:
    """End a FUSE mount (its rclone daemon exits with it); `-z` detaches one whose daemon died."""
    try:
        run(["fusermount", "-u", absolute(target)], timeout=60)
    except CommandFailed as exc:
        if "not found in /etc/mtab" in exc.stderr or "not mounted" in exc.stderr:
            return
        raise


def unmount_dead(target: str) -> None:
    """Detach a mount whose daemon is gone (every access answers ENOTCONN)."""
    run(["fusermount", "-u", "-z", absolute(target)], timeout=30, ok_codes=(0, 1))


def alive(target: str) -> bool:
    """A FUSE mount whose daemon died answers ENOTCONN. A listing asks the daemon (rclone keeps it in its folder
    cache); a stat of the mount point may be answered from the kernel's attribute cache even then."""
    try:
        with os.scandir(target) as entries:
            next(entries, None)
    except OSError:
        return False
    return True


def sync_argv(
    remote: RcloneRemote, *, local: str, direction: str, workdir: str, first: bool, rclone: str = "rclone"
) -> list[str]:
    """`rclone sync` one way or `rclone bisync` both ways, with a JSON stats line every second on stderr."""
    logging = ["--use-json-log", "--stats", "1s", "-v"]
    local = absolute(local)
    if direction == "both":
        # bisync (v1.60) keeps its listings in --workdir; its first run needs --resync to make them.
        resync = ["--resync"] if first else []
        paths = [remote.spec, local]
        return [*_base(remote, rclone), "bisync", *logging, "--workdir", absolute(workdir), *resync, "--", *paths]
    paths = [remote.spec, local] if direction == "pull" else [local, remote.spec]
    return [*_base(remote, rclone), "sync", *logging, "--", *paths]


def stream(argv: list[str], *, env: dict[str, str] | None = None):
    """Run argv and yield its stderr lines as they come (rclone's JSON log); the last item is its exit status."""
    with subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**_ENV, **(env or {})},
    ) as child:  # fmt: skip
        yield from child.stderr
        yield child.wait()


def stats_of(line: str) -> dict | None:
    """The stats object of one `--use-json-log` line, or None for any other line."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    stats = entry.get("stats") if isinstance(entry, dict) else None
    return stats if isinstance(stats, dict) else None


def error_of(line: str) -> str | None:
    """The message of an error line of the JSON log."""
    try:
        entry = json.loads(line)
    except ValueError:
        return line.strip() or None
    if isinstance(entry, dict) and entry.get("level") in ("error", "critical", "fatal"):
        return " ".join(filter(None, (entry.get("object", ""), str(entry.get("msg", ""))))).strip()
    return None


# ---------------------------------------------------------------------------- rclone's own OAuth flow
AUTH_PORT = 53682  # where `rclone authorize` waits for the provider's redirect (fixed in rclone)
AUTH_LINK = re.compile(r"http://127\.0\.0\.1:53682/auth\?state=[A-Za-z0-9_-]+")
TOKEN = re.compile(r"--->\s*(\{.*?\})\s*<---", re.DOTALL)


def authorize_start(kind: str, *, env: dict[str, str], out: Path, err: Path, seconds: int = 600,
                    rclone: str = "rclone") -> int:  # fmt: skip
    """`rclone authorize <kind>` in the background for at most `seconds`; client id and secret reach it through its
    environment (RCLONE_<KIND>_CLIENT_SECRET), never argv. Returns its pid."""
    argv = ["timeout", str(seconds), rclone, "authorize", kind, "--auth-no-open-browser"]
    with out.open("w") as stdout, err.open("w") as stderr:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                 env={**_ENV, **env}, start_new_session=True)  # fmt: skip
    return child.pid


def wait_text(path: Path, pattern: re.Pattern, seconds: float) -> re.Match | None:
    """The first match of pattern in a file a process is writing, waiting for it up to `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = pattern.search(path.read_text(errors="replace")) if path.exists() else None
        if found:
            return found
        time.sleep(0.1)
    return None


def redirect_of(url: str, timeout: float = 10) -> str:
    """Where a loopback URL of rclone's redirects to (the provider's sign-in page, or rclone's answer)."""
    request = urllib.request.Request(url, method="GET")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as answer:
            return answer.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        return exc.headers.get("Location", "")


def deliver_code(code: str, state: str, timeout: float = 30) -> None:
    """Hand the provider's code to the waiting `rclone authorize` (always our own loopback URL, never one given)."""
    query = urllib.parse.urlencode({"code": code, "state": state})
    with urllib.request.urlopen(f"http://127.0.0.1:{AUTH_PORT}/?{query}", timeout=timeout) as answer:
        answer.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def stop(pid: int) -> None:
    """End a process group we started (an authorisation given up or replaced)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
