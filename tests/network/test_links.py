"""The host module reads a real veth pair in a network namespace: interfaces, addresses, MAC, speed, state, the
default route and resolv.conf's name servers."""

import pytest

from network.host.links import Links, resolv_servers
from network.selectors import network_overview


def test_it_reads_interfaces_addresses_mac_speed_and_state(addressed):
    found = {i.name: i for i in Links(prefix=tuple(addressed.prefix)).interfaces()}
    inner = found[addressed.inner]
    mac = addressed.run("cat", f"/sys/class/net/{addressed.inner}/address").strip()
    assert inner.mac == mac and inner.kind == "veth" and inner.up and inner.state == "UP"
    assert inner.speed_mbps == 10000  # what the veth driver reports
    assert [a.cidr for a in inner.addresses if a.family == "inet"] == ["10.231.0.2/24"]
    assert not inner.addresses[0].dynamic
    assert found["lo"].hidden and not inner.hidden


def test_a_link_without_its_peer_is_down(addressed):
    addressed.run("ip", "link", "set", addressed.outer, "down")
    inner = {i.name: i for i in Links(prefix=tuple(addressed.prefix)).interfaces()}[addressed.inner]
    assert inner.up and inner.state == "LOWERLAYERDOWN"


def test_it_reads_the_default_route(addressed):
    routes = Links(prefix=tuple(addressed.prefix)).default_routes()
    assert [(r.gateway, r.interface, r.family) for r in routes] == [("10.231.0.1", addressed.inner, "inet")]


def test_no_default_route_is_an_empty_list(netns):
    assert Links(prefix=tuple(netns.prefix)).default_routes() == []


def test_it_reads_the_name_servers_of_resolv_conf(netns):
    assert Links(prefix=tuple(netns.prefix)).dns_servers() == ["10.231.0.53", "2001:db8::53"]


def test_resolv_conf_comments_and_options_are_not_servers():
    text = "# nameserver 9.9.9.9\noptions edns0\nnameserver 1.1.1.1 # home\nsearch lan\nnameserver\n"
    assert resolv_servers(text) == ["1.1.1.1"]


@pytest.mark.django_db
def test_the_overview_gives_the_lan_url_and_says_why_settings_are_read_only(addressed, settings):
    settings.NETWORK_HOST_PREFIX = addressed.prefix
    settings.BIND = "0.0.0.0:8123"
    view = network_overview()
    assert view["lan_address"] == "10.231.0.2" and view["lan_url"] == "http://10.231.0.2:8123/"
    assert view["default_route"] == {"gateway": "10.231.0.1", "interface": addressed.inner, "family": "inet"}
    assert view["dns_servers"] == ["10.231.0.53", "2001:db8::53"]
    assert view["network_manager"]["running"] is False
    assert view["network_manager"]["reason"] == "no system D-Bus to reach it on"
    inner = next(i for i in view["interfaces"] if i["name"] == addressed.inner)
    assert "Read-only" in inner["read_only_reason"] and inner["managed"] is False
