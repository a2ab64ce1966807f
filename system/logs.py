"""Our structured log: one JSON object per line, a file per process, read back newest first. Plain Python.

Each process writes `<log dir>/<process>.jsonl` alone (rotated by size): a file shared by several processes would be
rotated by each of them and lose lines. The reader merges the files by time. Values that look like secrets (API
tokens, bearer headers, `password=...`) are masked before a line is written, whoever logged them.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PROCESSES = ("web", "worker", "beat", "monitor", "events", "hotplug", "manage")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MASK = "********"
# The worker's companion threads (casaos_site/background.py) log as the process they used to be.
_THREAD_ROLES = {"beat": "beat", "system-monitor": "monitor", "app-events": "events", "storage-hotplug": "hotplug"}
_COMMAND_ROLES = {
    "serve": "web",
    "monitor": "monitor",
    "app_events": "events",
    "storage_hotplug": "hotplug",
    "worker": "worker",
    "beat": "beat",
}
_SECRETS = [
    (re.compile(r"casa_[A-Za-z0-9_\-]{8,}"), MASK),  # our API tokens (accounts/services/tokens.py)
    (re.compile(r"(?i)(bearer\s+|token\"?\s*[=:]\s*\"?)[^\s,;\"']+"), rf"\1{MASK}"),
    (re.compile(r"(?i)(password|passwd|secret|otp)(\"?\s*[=:]\s*\"?)[^\s,;\"'&]+"), rf"\1\2{MASK}"),
]
_BLOCK = 64 * 1024


def process_role(argv: list[str] | None = None) -> str:
    """Which of our processes this is, from its command line (CASAOS_PROCESS wins)."""
    if os.environ.get("CASAOS_PROCESS"):
        return os.environ["CASAOS_PROCESS"]
    argv = sys.argv if argv is None else argv
    for word in [Path(argv[0]).name if argv else "", *argv[1:4]]:
        if word in _COMMAND_ROLES:
            return _COMMAND_ROLES[word]
    return "manage"


ROLE = process_role()


def redact(text: str) -> str:
    """The text with anything that looks like a token or a password masked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, process, thread, logger, message, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "process": _THREAD_ROLES.get(record.threadName or "", ROLE),
            "pid": record.process,
            "thread": record.threadName,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class ProcessFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler on `<directory>/<this process>.jsonl`: one writer per file."""

    def __init__(self, directory: str, maxBytes: int = 0, backupCount: int = 0, **kwargs) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        path = Path(directory) / f"{ROLE}.jsonl"
        super().__init__(path, maxBytes=maxBytes, backupCount=backupCount, encoding="utf-8", **kwargs)


# ---------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class LogQuery:
    """What the Logs page asks for: a least level, words, a process, lines after a time, how many."""

    level: str = ""
    text: str = ""
    process: str = ""
    after: str = ""
    limit: int = 200

    def matches(self, entry: dict) -> bool:
        if self.level and LEVELS.index(entry.get("level", "INFO")) < LEVELS.index(self.level):
            return False
        if self.process and entry.get("process") != self.process:
            return False
        if self.after and entry.get("ts", "") <= self.after:
            return False
        return not self.text or self.text.lower() in _searchable(entry)


def _searchable(entry: dict) -> str:
    return f"{entry.get('message', '')} {entry.get('logger', '')} {entry.get('exc', '')}".lower()


def log_read(directory: Path, query: LogQuery) -> list[dict]:
    """The newest `limit` entries matching the query, newest first, from every process's files."""
    found: list[dict] = []
    for files in _file_sets(directory).values():
        found.extend(_matching(files, query))
    found.sort(key=lambda e: e.get("ts", ""), reverse=True)
    return found[: query.limit]


def _file_sets(directory: Path) -> dict[str, list[Path]]:
    """Per process: its current file then its rotated ones (`web.jsonl`, `web.jsonl.1`, ...), newest first."""
    sets: dict[str, list[Path]] = {}
    for path in sorted(directory.glob("*.jsonl*")):
        name, _sep, number = path.name.partition(".jsonl")
        if number == "" or number.lstrip(".").isdigit():
            sets.setdefault(name, []).append(path)
    for files in sets.values():
        files.sort(key=lambda p: int(p.name.rpartition(".")[2]) if p.suffix != ".jsonl" else 0)
    return sets


def _matching(files: list[Path], query: LogQuery) -> Iterator[dict]:
    count = 0
    for path in files:
        for line in _lines_backwards(path):
            entry = _parse(line)
            if entry is None:
                continue
            if query.after and entry.get("ts", "") <= query.after:
                return  # older than what the reader has: the rest of this process's files are older still
            if query.matches(entry):
                yield entry
                count += 1
                if count >= query.limit:
                    return


def _parse(line: bytes) -> dict | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) and entry.get("level") in LEVELS else None


def _lines_backwards(path: Path) -> Iterator[bytes]:
    """The file's lines from the last one up, read in blocks (a 5 MB file is not read whole for 200 lines)."""
    try:
        handle = path.open("rb")
    except OSError:
        return
    with handle:
        position = handle.seek(0, os.SEEK_END)
        rest = b""
        while position > 0:
            step = min(_BLOCK, position)
            position -= step
            handle.seek(position)
            lines = (handle.read(step) + rest).split(b"\n")
            rest = lines.pop(0)
            yield from (line for line in reversed(lines) if line.strip())
        if rest.strip():
            yield rest
