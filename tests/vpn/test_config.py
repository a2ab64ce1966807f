"""Keys and configuration texts as data: keys agree with the real `wg`, the texts hold what wg and wg-quick read,
and no value can add a line, a section or a peer of its own."""

import configparser
import shutil
import subprocess

import pytest

from vpn.host import config
from vpn.onetime import config_filename

SERVER = config.key_pair()
# A fixed key for parameters: xdist's workers each collect the tests, and must find the same ids.
A_KEY = "FkCE6QL+wzUYjfrLwECuXfE0ltxAY12jeiGfgb/phj8="


def parsed(text: str) -> list[tuple[str, dict]]:
    """The sections of a WireGuard file in order (several [Peer] sections allowed)."""
    sections, current = [], None
    for line in text.splitlines():
        if line.startswith("["):
            current = {}
            sections.append((line.strip("[]"), current))
        elif line.strip():
            key, _, value = line.partition(" = ")
            current[key] = value
    return sections


def test_it_makes_keys_the_real_wg_agrees_with():
    if shutil.which("wg") is None:
        pytest.skip("wireguard-tools is not installed (scripts/setup.sh installs it)")
    pair = config.key_pair()
    derived = subprocess.run(["wg", "pubkey"], input=pair.private + "\n", capture_output=True, text=True, check=True)
    assert derived.stdout.strip() == pair.public == config.public_of(pair.private)
    assert len(pair.private) == 44 and pair.private != config.key_pair().private


def test_the_server_text_names_its_key_port_and_exactly_the_peers():
    peers = [config.PeerSpec(config.key_pair().public, "10.77.0.2"), config.PeerSpec(SERVER.public, "fd00::5")]
    text = config.server_config(private_key=SERVER.private, listen_port=51820, peers=peers)
    sections = parsed(text)
    assert sections[0] == ("Interface", {"PrivateKey": SERVER.private, "ListenPort": "51820"})
    assert sections[1] == ("Peer", {"PublicKey": peers[0].public_key, "AllowedIPs": "10.77.0.2/32"})
    assert sections[2][1]["AllowedIPs"] == "fd00::5/128" and len(sections) == 3


def test_the_device_text_is_a_wg_quick_file():
    device = config.key_pair()
    text = config.peer_config(
        private_key=device.private,
        address="10.77.0.3",
        server_public_key=SERVER.public,
        endpoint_host="box.example.org",
        port=51999,
        routes=["10.77.0.0/24", "192.168.1.7/24"],
        dns=["192.168.1.1"],
    )
    ini = configparser.ConfigParser()
    ini.optionxform = str
    ini.read_string(text)
    assert dict(ini["Interface"]) == {"PrivateKey": device.private, "Address": "10.77.0.3/32", "DNS": "192.168.1.1"}
    assert dict(ini["Peer"]) == {
        "PublicKey": SERVER.public,
        "AllowedIPs": "10.77.0.0/24, 192.168.1.0/24",
        "Endpoint": "box.example.org:51999",
        "PersistentKeepalive": "25",
    }


def test_an_ipv6_endpoint_is_bracketed():
    assert config.endpoint("2001:db8::1", 51820) == "[2001:db8::1]:51820"


@pytest.mark.parametrize(
    "host", ["box\n[Peer]", "box.example.org\nPublicKey = x", "-box", "a b", "", "box:51820", "x" * 254]
)
def test_it_refuses_an_endpoint_that_could_end_the_line(host):
    with pytest.raises(config.ConfigRefused):
        config.check_host(host)


@pytest.mark.parametrize("key", ["", "x" * 44, A_KEY + "\n[Peer]", A_KEY[:-2], "AAAA" * 11])
def test_it_refuses_what_is_not_a_key(key):
    with pytest.raises(config.ConfigRefused):
        config.server_config(private_key=SERVER.private, listen_port=1, peers=[config.PeerSpec(key, "10.0.0.2")])


@pytest.mark.parametrize("cidr", ["10.77.0.0/24", "10.77.0.255/24", "10.77.0.1/31", "10.77.0.1/33", "box", ""])
def test_it_refuses_a_server_address_without_room_for_devices(cidr):
    with pytest.raises(config.ConfigRefused):
        config.check_network(cidr)


def test_devices_get_the_first_free_addresses_and_a_full_range_is_refused():
    assert config.peer_address("10.9.0.1/29", set()) == "10.9.0.2"
    assert config.peer_address("10.9.0.3/29", {"10.9.0.1", "10.9.0.2"}) == "10.9.0.4"
    with pytest.raises(config.ConfigRefused):
        config.peer_address("10.9.0.1/30", {"10.9.0.2"})


@pytest.mark.parametrize("name", ["-f", "a/b", "x" * 16, "", "..", "a b"])
def test_it_refuses_an_interface_name_that_is_an_option_or_a_path(name):
    with pytest.raises(config.ConfigRefused):
        config.interface_name(name)


@pytest.mark.parametrize(
    ("name", "filename"),
    [("Anna's phone", "wg-Anna-s-phone.conf"), ("手机", "wg-device.conf"), ("../../etc", "wg-etc.conf")],
)
def test_the_file_name_is_one_wg_quick_accepts(name, filename):
    assert config_filename(name) == filename
    assert len(filename.removesuffix(".conf")) <= 15
