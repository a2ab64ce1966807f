"""A fake host for the System settings: its files under a folder of the test's own, its commands recorded by
tests/system/host_recorder.py (hostname runs for real in a throwaway UTS namespace; systemctl never runs)."""

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client

from system.selectors import system_settings_forget
from tests.clients import logged_in

RECORDER = Path(__file__).with_name("host_recorder.py")


@dataclass
class FakeHost:
    root: Path
    log: Path

    def commands(self) -> list[list[str]]:
        """The argv of every command the host module ran, in order."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def file(self, absolute: str) -> str:
        return (self.root / absolute.lstrip("/")).read_text()


@pytest.fixture
def fake_host(tmp_path, settings):
    root = tmp_path / "host"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("casa-test\n")
    (root / "etc" / "timezone").write_text("Etc/UTC\n")
    settings.SYSTEM_HOST_ROOT = root
    settings.SYSTEM_HOST_WRAPPER = [sys.executable, str(RECORDER), str(tmp_path / "host.log")]
    system_settings_forget()
    yield FakeHost(root=root, log=tmp_path / "host.log")
    system_settings_forget()


def client_for(user, *, stepped_up=False, csrf=False) -> Client:
    return logged_in(user, stepped_up=stepped_up, csrf=csrf)
