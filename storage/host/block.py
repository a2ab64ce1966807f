"""Block devices and mounts as the kernel sees them: lsblk, blkid and findmnt, parsed into dataclasses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

from .command import run
from .errors import ParseError

LSBLK = ("lsblk", "--json", "--bytes", "--output-all")
FINDMNT = ("findmnt", "--json", "--list", "--output", "TARGET,SOURCE,FSTYPE,OPTIONS")
# -c /dev/null: no cache file, every device probed now (a stale cache would name a disk that was replaced).
BLKID = ("blkid", "-c", "/dev/null", "-o", "export")


@dataclass(frozen=True)
class BlockDevice:
    """One lsblk entry: a disk, a partition, a loop device or an md array, with its children."""

    name: str
    path: str
    type: str
    size: int
    model: str = ""
    serial: str = ""
    wwn: str = ""
    transport: str = ""
    rotational: bool = False
    removable: bool = False
    hotplug: bool = False
    readonly: bool = False
    fstype: str = ""
    label: str = ""
    uuid: str = ""
    partuuid: str = ""
    parent: str = ""
    mountpoints: tuple[str, ...] = ()
    fsused: int | None = None
    fsavail: int | None = None
    children: tuple[BlockDevice, ...] = field(default_factory=tuple)

    def walk(self):
        """This device, then its children and theirs."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class MountEntry:
    """One line of findmnt: where a source is mounted, as what, with which options."""

    target: str
    source: str
    fstype: str
    options: str = ""


def _text(value) -> str:
    return str(value).strip() if value not in (None, "") else ""


def _int(value) -> int | None:
    # lsblk --bytes gives numbers; older versions give numeric strings.
    return int(value) if value not in (None, "") else None


def _flag(value) -> bool:
    return value in (True, 1, "1", "true")


def _device(raw: dict) -> BlockDevice:
    return BlockDevice(
        name=_text(raw.get("name")),
        path=_text(raw.get("path")) or "/dev/" + _text(raw.get("kname") or raw.get("name")),
        type=_text(raw.get("type")),
        size=_int(raw.get("size")) or 0,
        model=_text(raw.get("model")),
        serial=_text(raw.get("serial")),
        wwn=_text(raw.get("wwn")),
        transport=_text(raw.get("tran")),
        rotational=_flag(raw.get("rota")),
        removable=_flag(raw.get("rm")),
        hotplug=_flag(raw.get("hotplug")),
        readonly=_flag(raw.get("ro")),
        fstype=_text(raw.get("fstype")),
        label=_text(raw.get("label")),
        uuid=_text(raw.get("uuid")),
        partuuid=_text(raw.get("partuuid")),
        parent=_text(raw.get("pkname")),
        mountpoints=tuple(m for m in raw.get("mountpoints") or [raw.get("mountpoint")] if m),
        fsused=_int(raw.get("fsused")),
        fsavail=_int(raw.get("fsavail")),
        children=tuple(_device(child) for child in raw.get("children") or ()),
    )


def parse_lsblk(text: str) -> list[BlockDevice]:
    """The top-level devices of `lsblk --json`, each with its partitions (and arrays or holders) as children."""
    try:
        return [_device(raw) for raw in json.loads(text)["blockdevices"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ParseError(f"lsblk output is not the JSON it documents: {exc}") from exc


def parse_blkid(text: str) -> dict[str, dict[str, str]]:
    """`blkid -o export`: blank-line separated KEY=value blocks, each naming its DEVNAME."""
    found: dict[str, dict[str, str]] = {}
    for block in text.strip().split("\n\n"):
        values = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if values.get("DEVNAME"):
            found[values["DEVNAME"]] = values
    return found


def parse_findmnt(text: str) -> list[MountEntry]:
    """`findmnt --json` (list or tree form) as a flat list of mounts."""
    try:
        roots = json.loads(text)["filesystems"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ParseError(f"findmnt output is not the JSON it documents: {exc}") from exc
    found: list[MountEntry] = []
    stack = list(roots)
    while stack:
        raw = stack.pop(0)
        found.append(
            MountEntry(
                _text(raw.get("target")), _text(raw.get("source")), _text(raw.get("fstype")), _text(raw.get("options"))
            )
        )
        stack[0:0] = raw.get("children") or []
    return found


def _with_blkid(device: BlockDevice, probed: dict[str, dict[str, str]]) -> BlockDevice:
    # Without udevd lsblk may not know a filesystem that blkid reads straight off the device.
    info = probed.get(device.path, {})
    return replace(
        device,
        fstype=device.fstype or info.get("TYPE", ""),
        label=device.label or info.get("LABEL", ""),
        uuid=device.uuid or info.get("UUID", ""),
        partuuid=device.partuuid or info.get("PARTUUID", ""),
        children=tuple(_with_blkid(child, probed) for child in device.children),
    )


def merge_blkid(devices: list[BlockDevice], probed: dict[str, dict[str, str]]) -> list[BlockDevice]:
    """Fill filesystem type, label and UUIDs that lsblk left empty from blkid's probe."""
    return [_with_blkid(device, probed) for device in devices]


def source_device(source: str) -> str:
    """The device of a findmnt source: btrfs subvolumes read "/dev/sda2[/@home]"."""
    return source.split("[", 1)[0]


def _with_mounts(device: BlockDevice, by_source: dict[str, list[MountEntry]]) -> BlockDevice:
    found = by_source.get(device.path, [])
    return replace(
        device,
        fstype=device.fstype or next((m.fstype for m in found if m.fstype), ""),
        mountpoints=device.mountpoints or tuple(m.target for m in found),
        children=tuple(_with_mounts(child, by_source) for child in device.children),
    )


def merge_mounts(devices: list[BlockDevice], mounts: list[MountEntry]) -> list[BlockDevice]:
    """Fill the filesystem type and mount points that lsblk and blkid left empty from findmnt: a device we may not
    open (a virtual machine's root disk) is still mounted, and the kernel says as what."""
    by_source: dict[str, list[MountEntry]] = {}
    for mount in mounts:
        by_source.setdefault(source_device(mount.source), []).append(mount)
    return [_with_mounts(device, by_source) for device in devices]


def list_devices() -> list[BlockDevice]:
    """Every block device now, with blkid's answers merged in."""
    devices = parse_lsblk(run(LSBLK))
    # blkid exits 2 when it found nothing to report: not an error.
    return merge_blkid(devices, parse_blkid(run(BLKID, ok_codes=(0, 2))))


def list_mounts() -> list[MountEntry]:
    """Every mounted filesystem now."""
    return parse_findmnt(run(FINDMNT))


def probe(path: str) -> dict[str, str]:
    """blkid's view of one device (a path from our own listing): TYPE, UUID, LABEL..."""
    return parse_blkid(run((*BLKID, "--", path), ok_codes=(0, 2))).get(path, {})
