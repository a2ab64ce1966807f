"""Disk health from `smartctl --json` (smartmontools 7): ATA/SATA, NVMe and SCSI documents in one dataclass."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from .command import run_full
from .errors import ParseError

# --nocheck=standby: a scheduled check never spins up a sleeping disk (smartctl says so and exits 2).
SMARTCTL = ("smartctl", "--json=c", "--all", "--nocheck=standby")

# smartctl's exit status is a bit mask (smartctl(8), "RETURN VALUES").
BIT_CMDLINE = 1 << 0  # command line did not parse (also: unknown USB bridge, "specify device type")
BIT_OPEN = 1 << 1  # device open failed, or it does not answer IDENTIFY / SMART
BIT_DISK_FAILING = 1 << 3  # SMART status check returned "DISK FAILING"
BIT_PREFAIL = 1 << 4  # a prefail attribute is at or below its threshold now

# ATA attribute ids (smartmontools' drivedb names).
ATTR_REALLOCATED = 5
ATTR_POWER_ON_HOURS = 9
ATTR_TEMPERATURE = 194
ATTR_PENDING = 197
ATTR_UNCORRECTABLE = 198
NVME_WEAR_WARNING = 90  # percentage_used from which an NVMe drive is near its rated endurance


class Health:
    """The one-word state pages show."""

    GOOD = "good"
    WARNING = "warning"
    FAILING = "failing"
    UNAVAILABLE = "unavailable"  # no SMART: USB bridges, loop devices, virtual disks
    ASLEEP = "asleep"  # in standby: not woken for a check


@dataclass(frozen=True)
class SmartReport:
    """What smartctl said about one device, reduced to the figures a NAS owner watches."""

    health: str
    available: bool
    passed: bool | None = None
    protocol: str = ""
    model: str = ""
    serial: str = ""
    temperature: int | None = None
    power_on_hours: int | None = None
    reallocated: int | None = None
    pending: int | None = None
    uncorrectable: int | None = None
    critical_warning: int | None = None
    percentage_used: int | None = None
    message: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _messages(doc: dict) -> str:
    return " ".join(m.get("string", "") for m in doc.get("smartctl", {}).get("messages", []) if m.get("string"))


def _ata_raw(doc: dict, attr_id: int) -> int | None:
    for attr in doc.get("ata_smart_attributes", {}).get("table", []):
        if attr.get("id") == attr_id:
            return int(attr.get("raw", {}).get("value", 0))
    return None


def _ata_figures(doc: dict) -> dict:
    return {
        "reallocated": _ata_raw(doc, ATTR_REALLOCATED),
        "pending": _ata_raw(doc, ATTR_PENDING),
        "uncorrectable": _ata_raw(doc, ATTR_UNCORRECTABLE),
    }


def _nvme_figures(doc: dict) -> dict:
    log = doc.get("nvme_smart_health_information_log", {})
    return {
        "critical_warning": log.get("critical_warning"),
        "percentage_used": log.get("percentage_used"),
        "uncorrectable": log.get("media_errors"),
    }


def _temperature(doc: dict) -> int | None:
    current = doc.get("temperature", {}).get("current")
    if current is None:
        current = doc.get("nvme_smart_health_information_log", {}).get("temperature")
    # The ATA raw value packs min/max in its upper bytes: only the low byte is the temperature.
    if current is None and (raw := _ata_raw(doc, ATTR_TEMPERATURE)) is not None:
        current = raw & 0xFF
    return current


def _power_on_hours(doc: dict) -> int | None:
    hours = doc.get("power_on_time", {}).get("hours")
    return hours if hours is not None else _ata_raw(doc, ATTR_POWER_ON_HOURS)


def _health(passed: bool | None, status: int, figures: dict) -> str:
    if passed is False or status & BIT_DISK_FAILING:
        return Health.FAILING
    worrying = any(figures.get(key) for key in ("reallocated", "pending", "uncorrectable", "critical_warning"))
    worn = (figures.get("percentage_used") or 0) >= NVME_WEAR_WARNING
    return Health.WARNING if worrying or worn or status & BIT_PREFAIL else Health.GOOD


def _unavailable(doc: dict, status: int) -> SmartReport | None:
    message = _messages(doc)
    if "STANDBY" in message.upper():
        return SmartReport(health=Health.ASLEEP, available=True, message=message)
    support = doc.get("smart_support", {})
    if "smart_status" in doc and support.get("enabled", True):
        return None
    if not message and (support.get("available") is False or "smart_status" not in doc):
        message = "This device does not report SMART health."
    if status & (BIT_CMDLINE | BIT_OPEN) or "smart_status" not in doc or support.get("available") is False:
        return SmartReport(
            health=Health.UNAVAILABLE,
            available=False,
            model=doc.get("model_name", ""),
            serial=doc.get("serial_number", ""),
            message=message or "SMART is turned off on this disk.",
        )
    return None


def parse_smartctl(doc: dict) -> SmartReport:
    """One smartctl JSON document as a SmartReport; a device without SMART is "unavailable", not an error."""
    if not isinstance(doc, dict):
        raise ParseError("smartctl output is not a JSON object")
    status = int(doc.get("smartctl", {}).get("exit_status", 0))
    if (unavailable := _unavailable(doc, status)) is not None:
        return unavailable
    protocol = doc.get("device", {}).get("protocol", "")
    figures = _nvme_figures(doc) if protocol == "NVMe" else _ata_figures(doc)
    passed = doc.get("smart_status", {}).get("passed")
    return SmartReport(
        health=_health(passed, status, figures),
        available=True,
        passed=passed,
        protocol=protocol,
        model=doc.get("model_name", ""),
        serial=doc.get("serial_number", ""),
        temperature=_temperature(doc),
        power_on_hours=_power_on_hours(doc),
        message=_messages(doc),
        **figures,
    )


def read(path: str) -> tuple[SmartReport, dict]:
    """Ask smartctl about a device (a path from our own listing): the report and the raw document kept as history."""
    done = run_full((*SMARTCTL, "--", path), timeout=120, ok_codes=None)
    try:
        doc = json.loads(done.stdout)
    except ValueError as exc:
        raise ParseError("smartctl gave no JSON", argv=(*SMARTCTL, "--", path), stderr=done.stderr) from exc
    return parse_smartctl(doc), doc
