"""Linux md (software RAID) arrays from /proc/mdstat, in the kernel's own text format (drivers/md/md.c)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

MDSTAT = Path("/proc/mdstat")

_HEAD = re.compile(r"^(?P<name>md\w+)\s*:\s*(?P<state>active|inactive)(?P<rest>.*)$")
_MEMBER = re.compile(r"(?P<dev>[\w-]+)\[(?P<index>\d+)\](?P<flags>(?:\([A-Z]\))*)")
_STATUS = re.compile(r"\[(?P<raid>\d+)/(?P<active>\d+)\]\s*\[(?P<map>[U_]+)\]")
_BLOCKS = re.compile(r"^\s*(?P<blocks>\d+) blocks")
_SYNC = re.compile(r"(?P<action>resync|recovery|reshape|check|repair)\s*=\s*(?P<pct>[\d.]+)%")
_DELAYED = re.compile(r"(?P<action>resync|recovery|reshape|check)=(?P<what>DELAYED|PENDING)")
_FLAGS = {"F": "faulty", "S": "spare", "W": "write-mostly", "R": "replacement", "J": "journal"}


@dataclass(frozen=True)
class MdMember:
    """One member device of an array, with its role flags."""

    device: str
    index: int
    flags: tuple[str, ...] = ()

    @property
    def faulty(self) -> bool:
        return "faulty" in self.flags


@dataclass(frozen=True)
class MdArray:
    """One md array: level, members, health map and any running sync."""

    name: str
    active: bool
    level: str = ""
    readonly: bool = False
    members: tuple[MdMember, ...] = ()
    blocks: int = 0
    raid_disks: int | None = None
    active_disks: int | None = None
    member_map: str = ""
    sync_action: str = ""
    sync_percent: float | None = None
    extra: tuple[str, ...] = field(default_factory=tuple)

    @property
    def degraded(self) -> bool:
        return "_" in self.member_map or any(m.faulty for m in self.members)

    @property
    def path(self) -> str:
        return f"/dev/{self.name}"


def _head(match: re.Match) -> dict:
    words = match["rest"].split()
    readonly = bool(words) and words[0] in ("(read-only)", "(auto-read-only)")
    words = words[1:] if readonly else words
    level = words[0] if words and "[" not in words[0] else ""
    members = tuple(
        MdMember(m["dev"], int(m["index"]), tuple(_FLAGS.get(f, f) for f in re.findall(r"\(([A-Z])\)", m["flags"])))
        for m in _MEMBER.finditer(" ".join(words[1:] if level else words))
    )
    return {
        "name": match["name"],
        "active": match["state"] == "active",
        "level": level,
        "readonly": readonly,
        "members": members,
    }


def _detail(lines: list[str]) -> dict:
    found: dict = {}
    text = "\n".join(lines)
    if blocks := _BLOCKS.search(text):
        found["blocks"] = int(blocks["blocks"])
    if status := _STATUS.search(text):
        found.update(raid_disks=int(status["raid"]), active_disks=int(status["active"]), member_map=status["map"])
    if sync := _SYNC.search(text):
        found.update(sync_action=sync["action"], sync_percent=float(sync["pct"]))
    elif delayed := _DELAYED.search(text):
        found.update(sync_action=f"{delayed['action']} {delayed['what'].lower()}")
    return found


def parse_mdstat(text: str) -> list[MdArray]:
    """Every array in a /proc/mdstat text; the Personalities and unused devices lines are skipped."""
    arrays: list[MdArray] = []
    head: dict | None = None
    lines: list[str] = []
    for line in [*text.splitlines(), ""]:
        match = _HEAD.match(line)
        if match or not line.strip():
            if head is not None:
                arrays.append(MdArray(**head, **_detail(lines)))
            head, lines = (_head(match), []) if match else (None, [])
        elif head is not None:
            lines.append(line)
    return arrays


def read_arrays(path: Path = MDSTAT) -> list[MdArray]:
    """The arrays now; a kernel without the md driver has no /proc/mdstat and so no arrays."""
    try:
        return parse_mdstat(path.read_text())
    except FileNotFoundError:
        return []
