"""Health history: each reading kept, a change for the worse published for the notifications issue."""

import json
from pathlib import Path

import pytest

from storage import health
from storage.host import smart
from storage.models import Disk, HealthSample

FIXTURES = Path(__file__).parent / "fixtures"


def reading(name: str, changes: dict | None = None):
    doc = json.loads((FIXTURES / f"smart_{name}.json").read_text())
    for attr in doc.get("ata_smart_attributes", {}).get("table", []):
        if attr["id"] in (changes or {}):
            attr["raw"]["value"] = changes[attr["id"]]
    return smart.parse_smartctl(doc), doc


@pytest.fixture
def disk(db):
    return Disk.objects.create(stable_id="serial-WD-WCC7K4HJ1234", id_kind="serial", name="sda", path="/dev/sda")


@pytest.fixture
def published(monkeypatch):
    events = []
    monkeypatch.setattr(health, "publish_on_commit", lambda group, event, data: events.append((event, data)))
    return events


def test_it_keeps_every_reading_and_the_latest_on_the_disk(disk, published, monkeypatch):
    monkeypatch.setattr(smart, "read", lambda path: reading("sata_hdd"))
    health.disk_health_check(disk=disk)
    health.disk_health_check(disk=disk)
    disk.refresh_from_db()
    assert HealthSample.objects.filter(disk=disk).count() == 2
    assert (disk.health, disk.temperature) == ("good", 34) and published == []


def test_growing_bad_sectors_are_an_event(disk, published, monkeypatch):
    monkeypatch.setattr(smart, "read", lambda path: reading("sata_hdd"))
    health.disk_health_check(disk=disk)
    monkeypatch.setattr(smart, "read", lambda path: reading("sata_hdd", {5: 16, 197: 2}))
    sample = health.disk_health_check(disk=disk)
    assert sample.health == "warning"
    ((event, data),) = published
    assert event == health.WORSE_EVENT and data["disk"] == disk.stable_id
    assert data["reasons"] == ["health good → warning", "reallocated 0 → 16", "pending 0 → 2"]


def test_a_sleeping_disk_keeps_its_last_reading(disk, published, monkeypatch):
    monkeypatch.setattr(smart, "read", lambda path: reading("sata_hdd"))
    first = health.disk_health_check(disk=disk)
    asleep = smart.SmartReport(health=smart.Health.ASLEEP, available=True, message="STANDBY")
    monkeypatch.setattr(smart, "read", lambda path: (asleep, {}))
    assert health.disk_health_check(disk=disk) == first and HealthSample.objects.count() == 1


def test_a_usb_bridge_without_smart_is_recorded_as_unavailable_never_worse(disk, published, monkeypatch):
    monkeypatch.setattr(smart, "read", lambda path: reading("sata_hdd"))
    health.disk_health_check(disk=disk)
    monkeypatch.setattr(smart, "read", lambda path: reading("usb_bridge"))
    assert health.disk_health_check(disk=disk).health == "unavailable" and published == []
