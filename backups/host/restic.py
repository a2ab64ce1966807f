"""restic commands: init, backup (with live progress), snapshots, ls, dump, restore, forget + prune, check, stats."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from storage.host.command import run_full
from storage.host.errors import CommandFailed, HostError

RESTIC = "restic"
DEFAULT_TIMEOUT = 3600  # seconds for a command that is not a backup or restore (check and prune read everything)
NO_REPOSITORY = "there is no repository at this location"
NO_BUCKET = "the S3 bucket does not exist"
NOT_HTTPS = "the backup target does not speak HTTPS (try http://)"
# restic's own words for the failures a person can act on, and ours for them: the first that matches is the cause.
KNOWN_ERRORS = (
    ("wrong password", "wrong repository password"),
    ("no space left on device", "the backup target is full"),
    ("connection refused", "the backup target does not answer"),
    ("connection reset", "the backup target closed the connection"),
    ("no route to host", "the backup target cannot be reached"),
    ("no such host", "the backup target's host name is not known"),
    ("unable to start the sftp session", "the SFTP server cannot be reached"),
    # S3's error messages (AWS, MinIO and moto word them alike), as restic passes them on.
    ("signature we calculated does not match", "the S3 secret key is wrong"),
    ("access key id you provided does not exist", "the S3 access key is not known"),
    ("access denied", "the S3 server denies this key access to the bucket"),
    ("the specified bucket does not exist", NO_BUCKET),
    # An https:// address: the server's certificate, or a server that speaks plain HTTP.
    ("x509:", "the backup target's certificate is not trusted"),
    ("does not look like a tls handshake", NOT_HTTPS),
    ("server gave http response to https client", NOT_HTTPS),
    ("401 unauthorized", "the backup target refused the user name or password"),
    ("repository master key and config already initialized", "a repository already exists at this location"),
    ("config file already exists", "a repository already exists at this location"),
)
# rclone (the rclone backend's server) says why it cannot open the remote; restic then only says "unexpected EOF".
RCLONE_REFUSED = re.compile(r'Failed to create file system for "[^"]*": (.+)')
# restic says "unable to open config file: <cause>" + "Is there a repository at the following location?" whatever
# kept it from reading the config; only these causes mean that nothing is there (local, SFTP, REST, S3 in turn).
CONFIG_UNREADABLE = "unable to open config file:"
NOT_FOUND = ("no such file or directory", "does not exist")


class ResticError(HostError):
    """restic failed; `reason` is a short cause in words ("wrong repository password"), `stderr` its own text."""

    def __init__(self, message: str, *, argv: tuple[str, ...] = (), stderr: str = "", reason: str = "") -> None:
        super().__init__(message, argv=argv, stderr=stderr)
        self.reason = reason or reason_of(stderr)

    def __str__(self) -> str:
        return self.reason or super().__str__()


def reason_of(stderr: str) -> str:
    """Our words for restic's error text, or its own words for the cause."""
    low = stderr.lower()
    rclone = RCLONE_REFUSED.search(stderr)
    if rclone and "connection refused" not in low:  # rclone's own cause is the more precise (a 401 from WebDAV)
        return f"the remote cannot be opened: {rclone.group(1).strip()[:300]}"
    for needle, words in KNOWN_ERRORS:
        if needle in low:
            return words
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    unreadable = next((line for line in lines if CONFIG_UNREADABLE in line.lower()), "")
    if unreadable:
        return (
            NO_REPOSITORY
            if any(n in unreadable.lower() for n in NOT_FOUND)
            else unreadable.removeprefix("Fatal: ")[:300]
        )
    return lines[-1][:300] if lines else ""


@dataclass(frozen=True)
class Repo:
    """Where a repository is and how to open it: location, password and the target's credentials (env names)."""

    location: str  # /mnt/disk/backups, sftp:user@host:/path, s3:https://host/bucket, rest:https://host/
    password: str
    env: Mapping[str, str] = field(default_factory=dict)  # AWS_ACCESS_KEY_ID, ... for the child only
    options: tuple[str, ...] = ()  # "-o" values without secrets (sftp.command with a key file path)
    cache_dir: str = ""


@dataclass(frozen=True)
class Progress:
    """One status line of a running backup."""

    percent: float
    bytes_done: int
    total_bytes: int
    files_done: int
    total_files: int
    seconds: float

    @property
    def speed(self) -> float:
        """Bytes per second so far."""
        return self.bytes_done / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Summary:
    """What a finished backup says about itself."""

    snapshot_id: str
    files_new: int
    files_changed: int
    files_unmodified: int
    data_added: int
    total_files: int
    total_bytes: int
    seconds: float


@dataclass(frozen=True)
class Snapshot:
    """A snapshot as `restic snapshots --json` lists it."""

    id: str
    short_id: str
    time: str
    paths: tuple[str, ...]
    tags: tuple[str, ...]
    hostname: str


@dataclass(frozen=True)
class Node:
    """An entry of a snapshot (`restic ls --json`)."""

    path: str
    name: str
    type: str  # file, dir, symlink
    size: int
    mtime: str


# ---------------------------------------------------------------------------- running restic
@contextlib.contextmanager
def _password_file(password: str) -> Iterator[str]:
    """The password in a 0600 file that exists only while the command runs."""
    fd, path = tempfile.mkstemp(prefix="restic-pw-")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, password.encode())
        os.close(fd)
        yield path
    finally:
        Path(path).unlink(missing_ok=True)


def _env(repo: Repo, password_file: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RESTIC_", "AWS_", "RCLONE_"))}
    env.update(LC_ALL="C", LANG="C", RESTIC_REPOSITORY=repo.location, RESTIC_PASSWORD_FILE=password_file)
    if repo.cache_dir:
        env["RESTIC_CACHE_DIR"] = repo.cache_dir
    env.update(repo.env)
    return env


def _argv(repo: Repo, args: Sequence[str]) -> list[str]:
    options = [part for value in repo.options for part in ("-o", value)]
    return [RESTIC, *options, *args]


def _check_installed() -> None:
    if shutil.which(RESTIC) is None:
        raise ResticError("restic is not installed", reason="restic is not installed")


def restic(repo: Repo, args: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """Run one restic command on the repository and return its stdout; a failure raises ResticError."""
    _check_installed()
    argv = _argv(repo, args)
    with _password_file(repo.password) as pw:
        try:
            done = _run(argv, env=_env(repo, pw), timeout=timeout)
        except CommandFailed as exc:
            raise ResticError(f"restic {args[0]} failed", argv=tuple(argv), stderr=exc.stderr) from None
    return done.stdout


def _run(argv: list[str], *, env: dict, timeout: float) -> subprocess.CompletedProcess:
    """run_full with the child's own environment (run_full's is the parent's, without our secrets)."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise ResticError(f"{argv[0]} did not finish within {timeout:g}s", reason="the backup target is too slow")
    if done.returncode != 0:
        raise CommandFailed("restic failed", argv=tuple(argv), stderr=done.stderr or done.stdout)
    return done


def _json_lines(text: str) -> Iterator[dict]:
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                yield json.loads(line)


# ---------------------------------------------------------------------------- commands
def version() -> str:
    """restic's version line."""
    _check_installed()
    return run_full([RESTIC, "version"], timeout=10).stdout.strip()


def init(repo: Repo) -> None:
    """Create the repository (refused where one exists)."""
    restic(repo, ["init"], timeout=300)


def is_initialised(repo: Repo) -> bool:
    """True when the location holds a repository this password opens (raises for a wrong password)."""
    try:
        restic(repo, ["cat", "config"], timeout=120)
    except ResticError as exc:
        if exc.reason in (NO_REPOSITORY, NO_BUCKET):  # init makes the bucket too
            return False
        raise
    return True


def backup(
    repo: Repo,
    paths: Sequence[str],
    *,
    tags: Sequence[str] = (),
    host: str = "casaos",
    excludes: Sequence[str] = (),
    on_progress: Callable[[Progress], None] | None = None,
    timeout: float | None = None,
) -> Summary:
    """Back the paths up as one snapshot, reporting restic's status lines as they come."""
    _check_installed()
    args = ["backup", "--json", "--host", host]
    args += [part for tag in tags for part in ("--tag", tag)]
    args += [part for pattern in excludes for part in ("--exclude", pattern)]
    argv = _argv(repo, [*args, "--", *paths])
    with _password_file(repo.password) as pw:
        # Without a terminal restic prints its status once a minute: twice a second makes the page's bar live.
        env = {**_env(repo, pw), "RESTIC_PROGRESS_FPS": "2"}
        return _stream_backup(argv, env, on_progress, timeout)


# restic retries a failed write for minutes (ten times, backing off); these causes do not pass by themselves.
HOPELESS = ("no space left on device",)


def _read_errors(proc: subprocess.Popen, lines: list[str]) -> threading.Thread:
    """Collect restic's stderr beside its stdout (a full pipe would stall it) and stop it at a hopeless error."""

    def read() -> None:
        for line in proc.stderr:
            lines.append(line)
            if any(needle in line.lower() for needle in HOPELESS):
                proc.send_signal(signal.SIGINT)  # restic's own stop: it removes its lock from the repository

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader


def _stream_backup(argv, env, on_progress, timeout) -> Summary:
    started = time.monotonic()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as proc:
        errors: list[str] = []
        reader = _read_errors(proc, errors)
        summary = None
        for line in proc.stdout:
            event = next(_json_lines(line), None)
            if event is None:
                continue
            if event.get("message_type") == "summary":
                summary = _summary(event)
            elif event.get("message_type") == "status" and on_progress is not None:
                on_progress(_progress(event, time.monotonic() - started))
            if timeout is not None and time.monotonic() - started > timeout:
                proc.kill()
        code = proc.wait()
        reader.join()
        stderr = "".join(errors)
    # 3: some files could not be read, yet a snapshot was made; anything else without a summary failed.
    if summary is None or code not in (0, 3):
        raise ResticError("restic backup failed", argv=tuple(argv), stderr=stderr)
    return summary


def _progress(event: dict, seconds: float) -> Progress:
    return Progress(
        percent=float(event.get("percent_done", 0.0)) * 100,
        bytes_done=int(event.get("bytes_done", 0)),
        total_bytes=int(event.get("total_bytes", 0)),
        files_done=int(event.get("files_done", 0)),
        total_files=int(event.get("total_files", 0)),
        seconds=float(event.get("seconds_elapsed", seconds)),
    )


def _summary(event: dict) -> Summary:
    return Summary(
        snapshot_id=event["snapshot_id"],
        files_new=int(event.get("files_new", 0)),
        files_changed=int(event.get("files_changed", 0)),
        files_unmodified=int(event.get("files_unmodified", 0)),
        data_added=int(event.get("data_added", 0)),
        total_files=int(event.get("total_files_processed", 0)),
        total_bytes=int(event.get("total_bytes_processed", 0)),
        seconds=float(event.get("total_duration", 0.0)),
    )


def snapshots(repo: Repo, *, tags: Sequence[str] = ()) -> list[Snapshot]:
    """The repository's snapshots, oldest first (only those with every tag given)."""
    args = ["snapshots", "--json"] + ([f"--tag={','.join(tags)}"] if tags else [])
    return [_snapshot(item) for item in json.loads(restic(repo, args, timeout=300) or "[]")]


def _snapshot(item: dict) -> Snapshot:
    return Snapshot(
        id=item["id"],
        short_id=item.get("short_id", item["id"][:8]),
        time=item["time"],
        paths=tuple(item.get("paths") or ()),
        tags=tuple(item.get("tags") or ()),
        hostname=item.get("hostname", ""),
    )


def ls(repo: Repo, snapshot_id: str, path: str = "") -> list[Node]:
    """The entries of a snapshot, or of one folder in it (that folder's direct children)."""
    args = ["ls", "--json", "--", _snapshot_ref(snapshot_id)] + ([path] if path else [])
    nodes = [_node(item) for item in _json_lines(restic(repo, args, timeout=600)) if item.get("struct_type") == "node"]
    if path:
        parent = path.rstrip("/") or "/"
        nodes = [n for n in nodes if str(Path(n.path).parent) == parent]
    return nodes


def _node(item: dict) -> Node:
    return Node(
        path=item["path"],
        name=item["name"],
        type=item.get("type", "file"),
        size=int(item.get("size") or 0),
        mtime=item.get("mtime", ""),
    )


def _snapshot_ref(snapshot_id: str) -> str:
    """A snapshot id as restic takes it: hex only (nothing that reads as an option or a path)."""
    if snapshot_id != "latest" and not (snapshot_id and all(c in "0123456789abcdef" for c in snapshot_id)):
        raise ResticError(f"{snapshot_id!r} is not a snapshot id", reason="not a snapshot id")
    return snapshot_id


def dump(repo: Repo, snapshot_id: str, path: str) -> bytes:
    """One file of a snapshot, whole (small files: manifests)."""
    return restic(repo, ["dump", "--", _snapshot_ref(snapshot_id), path], timeout=600).encode()


def restore(
    repo: Repo, snapshot_id: str, *, staging: Path, includes: Sequence[str] = (), timeout: float | None = None
) -> Path:
    """Restore the snapshot (or the included paths of it) under `staging`, an empty folder of ours; returns it.

    The caller moves what it needs into place once restic finished without an error: a failed restore leaves
    only the staging folder, never a half-written original.
    """
    staging.mkdir(parents=True, exist_ok=False)
    args = ["restore", "--target", str(staging)]
    args += [part for inc in includes for part in ("--include", inc)]
    try:
        restic(repo, [*args, "--", _snapshot_ref(snapshot_id)], timeout=timeout or 24 * 3600)
    except ResticError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def forget(repo: Repo, *, keep: Mapping[str, int], tags: Sequence[str] = (), prune: bool = True) -> list[str]:
    """Forget the snapshots the keep rules do not keep (per group of host and tags), then prune; returns the
    forgotten ids. Without any rule nothing is forgotten (restic would refuse, and we never mean "drop all")."""
    rules = [f"--keep-{name}={int(n)}" for name, n in keep.items() if n and name in KEEP_RULES]
    if not rules:
        return []
    args = ["forget", "--json", "--group-by", "host,tags", *rules]
    args += [f"--tag={','.join(tags)}"] if tags else []
    args += ["--prune"] if prune else []
    out = restic(repo, args)
    return [snap["id"] for group in _forget_groups(out) for snap in (group.get("remove") or [])]


KEEP_RULES = ("last", "hourly", "daily", "weekly", "monthly", "yearly")


def _forget_groups(out: str) -> list[dict]:
    # With --prune, prune's own words follow the JSON: read the first line that is a JSON list.
    for line in out.splitlines():
        if line.startswith("["):
            return json.loads(line)
    return []


def prune(repo: Repo) -> None:
    """Remove data no snapshot needs any more."""
    restic(repo, ["prune"])


def check(repo: Repo, *, read_data_subset: str = "") -> str:
    """Verify the repository's structure (and a share of its data, e.g. "5%"); returns restic's report."""
    args = ["check"] + ([f"--read-data-subset={read_data_subset}"] if read_data_subset else [])
    return restic(repo, args)


def stats(repo: Repo, *, mode: str = "raw-data") -> dict:
    """Sizes: `raw-data` is what the repository holds on the target, `restore-size` what a restore would write."""
    return json.loads(restic(repo, ["stats", "--json", f"--mode={mode}"], timeout=600))


def unlock(repo: Repo) -> None:
    """Remove stale locks (a process that died while holding one)."""
    restic(repo, ["unlock"], timeout=120)


def staging_name() -> str:
    """A fresh folder name for a restore's staging area."""
    return f".restore-{uuid.uuid4().hex[:12]}"
