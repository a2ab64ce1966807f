"""system/host.py against real programs: `hostname` in a throwaway UTS namespace, files under a fake root."""

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from system.host import Host, HostCommandError, hostname_valid
from tests.conftest import missing

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["casa", "casa-1", "a", "box.home.arpa", "x" * 63, "1box"])
def test_it_accepts_rfc_1123_names(name):
    assert hostname_valid(name)


@pytest.mark.parametrize(
    "name", ["", "-box", "box-", "box_1", "box..home", "box.", "x" * 64, "a b", "--help", "box;reboot", "bøx"]
)
def test_it_refuses_names_outside_rfc_1123(name):
    assert not hostname_valid(name)


def test_it_sets_the_running_host_name_with_the_real_program_in_a_namespace_of_its_own(tmp_path):
    if shutil.which("unshare") is None or subprocess.run(["unshare", "--uts", "true"], check=False).returncode:
        missing("unshare --uts is refused here (needs root or user namespaces)")
    (tmp_path / "etc").mkdir()
    script = (
        "import socket, sys; from pathlib import Path; from system.host import Host; "
        "Host(root=Path(sys.argv[1])).hostname_set('box-in-a-namespace'); print(socket.gethostname())"
    )
    done = subprocess.run(
        ["unshare", "--uts", "--", sys.executable, "-c", script, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "box-in-a-namespace"
    assert (tmp_path / "etc" / "hostname").read_text() == "box-in-a-namespace\n"
    assert socket.gethostname() != "box-in-a-namespace"  # the test's own namespace kept its name


def test_a_refused_command_raises_with_the_programs_words(tmp_path):
    (tmp_path / "etc").mkdir()
    host = Host(root=tmp_path, wrapper=("false",))
    with pytest.raises(HostCommandError, match="hostname failed"):
        host.hostname_set("box")


def test_with_systemd_the_host_name_and_zone_go_through_hostnamectl_and_timedatectl(fake_host):
    (fake_host.root / "run" / "systemd" / "system").mkdir(parents=True)
    host = Host(root=fake_host.root, wrapper=tuple(settings.SYSTEM_HOST_WRAPPER))
    host.hostname_set("box")
    host.time_zone_set("Europe/Berlin")
    assert fake_host.commands() == [
        ["hostnamectl", "set-hostname", "--", "box"],
        ["timedatectl", "set-timezone", "--", "Europe/Berlin"],
    ]
    assert fake_host.file("/etc/hostname") == "casa-test\n"  # hostnamectl writes it, not us


def test_without_systemd_the_zone_is_written_and_localtime_linked(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "localtime").symlink_to("/usr/share/zoneinfo/UTC")
    host = Host(root=tmp_path)
    host.time_zone_set("Asia/Shanghai")
    assert (tmp_path / "etc" / "timezone").read_text() == "Asia/Shanghai\n"
    assert (tmp_path / "etc" / "localtime").readlink() == Path("/usr/share/zoneinfo/Asia/Shanghai")
    assert host.time_zone() == "Asia/Shanghai"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "-u", "", "Europe/../UTC"])
def test_it_refuses_unknown_zones(tmp_path, zone):
    assert not Host(root=tmp_path).zone_exists(zone)
    with pytest.raises(ValueError):
        Host(root=tmp_path).time_zone_set(zone)


def test_it_reads_a_raspberry_pis_board_model_and_cpu(tmp_path):
    (tmp_path / "proc" / "device-tree").mkdir(parents=True)
    (tmp_path / "proc" / "device-tree" / "model").write_bytes(b"Raspberry Pi 4 Model B Rev 1.4\x00")
    (tmp_path / "proc" / "cpuinfo").write_text(
        "processor\t: 0\nBogoMIPS\t: 108.00\nCPU part\t: 0xd08\n\nHardware\t: BCM2835\nModel\t: Raspberry Pi 4\n"
    )
    facts = Host(root=tmp_path).hardware()
    assert facts["board"] == "Raspberry Pi 4 Model B Rev 1.4"
    assert facts["cpu_model"] == "BCM2835"
    assert facts["cpu_cores"] >= 1 and facts["memory_bytes"] > 0 and facts["kernel"]


def test_on_this_machine_it_reads_the_real_cpu_and_os():
    facts = Host().hardware()
    assert facts["cpu_model"] and facts["os"] and facts["board"] == ""  # not a Pi


def test_it_knows_this_hosts_addresses_and_a_taken_port():
    host = Host()
    assert {"127.0.0.1", "0.0.0.0"} <= host.addresses()
    assert "192.0.2.77" not in host.addresses()  # TEST-NET-1: never a real interface's
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert not host.port_free("127.0.0.1", port)
    assert host.port_free("127.0.0.1", port)


def test_power_runs_only_reboot_or_poweroff(fake_host):
    host = Host(root=fake_host.root, wrapper=tuple(settings.SYSTEM_HOST_WRAPPER))
    host.power("reboot")
    with pytest.raises(ValueError):
        host.power("kexec")
    assert fake_host.commands() == [["systemctl", "reboot"]]
