"""The rules as data: what the database and settings turn into, and the nft text made from it (checked by the real
`nft -c`, which parses and validates without loading anything)."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess

import pytest
from django.test import override_settings

from apps.models import Installation
from firewall.host.nft import Guard, Ruleset, ports_of, render, script
from firewall.selectors import firewall_openings, firewall_ruleset
from proxy.models import AppAddress

NETS = (ipaddress.ip_network("192.168.1.0/24"), ipaddress.ip_network("fd00::/64"))


def app(name: str, ports: list[str], *, status=Installation.Status.RUNNING, public: bool | None = None):
    inst = Installation.objects.create(name=name, compose="services: {}", ports=ports, status=status)
    if public is not None:
        AppAddress.objects.create(installation=inst, name=name, public=public)
    return inst


def nft_check(text: str) -> subprocess.CompletedProcess:
    if shutil.which("nft") is None:
        pytest.skip("nft is not installed (scripts/setup.sh installs it)")
    return subprocess.run(["nft", "-c", "-f", "-"], input=text, text=True, capture_output=True, check=False)


def test_it_guards_every_port_in_both_chains_by_its_original_destination():
    text = render(Ruleset(lan=NETS, guards=(Guard("tcp", 8080, "app web"), Guard("udp", 53, "app dns"))))
    for chain_match in ("ct direction original meta", "ct direction original ct status dnat meta"):
        assert f'{chain_match} l4proto tcp ct original proto-dst 8080 counter jump lan_only comment "app web"' in text
        assert f'{chain_match} l4proto udp ct original proto-dst 53 counter jump lan_only comment "app dns"' in text
    assert "type filter hook forward priority filter - 10; policy accept;" in text
    assert "elements = { 192.168.1.0/24 }" in text and "elements = { fd00::/64 }" in text


def test_the_whole_table_is_replaced_in_one_transaction():
    text = script(Ruleset(lan=NETS, guards=(Guard("tcp", 8000, "admin"),)))
    assert text.startswith("table inet casaos\ndelete table inet casaos\ntable inet casaos {")
    assert "flush" not in text and "ip filter" not in text  # nothing but our table is named
    assert nft_check(text).returncode == 0, nft_check(text).stderr


def test_removal_is_a_delete_that_cannot_fail_on_a_missing_table():
    assert script(None) == "table inet casaos\ndelete table inet casaos\n"
    assert nft_check(script(None)).returncode == 0


def test_an_empty_lan_and_no_ports_still_make_a_valid_table():
    assert nft_check(script(Ruleset(lan=(), guards=()))).returncode == 0


def test_overlapping_lan_networks_are_merged():
    nets = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("10.1.0.0/16"))
    text = render(Ruleset(lan=nets, guards=()))
    assert "elements = { 10.0.0.0/8 }" in text
    assert nft_check(script(Ruleset(lan=nets, guards=()))).returncode == 0


def test_it_rejects_a_name_that_tries_to_write_nft_syntax():
    text = render(Ruleset(lan=(), guards=(Guard("tcp", 1, 'x" ; flush ruleset ; add rule "\n}'),)))
    assert 'comment "x  flush ruleset  add rule "' in text
    assert text.count("}") == text.count("{")
    assert nft_check(script(Ruleset(lan=(), guards=(Guard("tcp", 1, 'x";flush ruleset\n'),)))).returncode == 0


@pytest.mark.parametrize(("protocol", "port"), [("icmp", 80), ("tcp", 0), ("tcp", 70000), ("tcp", "80"), ("tcp", True)])
def test_it_refuses_a_port_or_protocol_outside_the_allowlist(protocol, port):
    with pytest.raises(ValueError):
        Guard(protocol, port, "x")


def test_it_reads_only_well_formed_claimed_ports():
    assert ports_of(["tcp/8080", "udp/53", "sctp/9", "tcp/x", "tcp/0", "tcp/99999", "8080"]) == [
        ("tcp", 8080),
        ("udp", 53),
    ]


@pytest.mark.django_db
@override_settings(FIREWALL_LAN=["192.168.1.0/24"], FIREWALL_ADMIN_PORTS=[8000])
def test_public_apps_are_left_open_and_the_admin_port_never():
    app("private", ["tcp/8080", "udp/5353"])
    app("shown", ["tcp/8443"], public=True)
    app("hidden", ["tcp/9000"], public=False)
    app("failed", ["tcp/9100"], status=Installation.Status.FAILED)  # holds no port any more
    guards = {(g.protocol, g.port, g.label) for g in firewall_ruleset().guards}
    assert guards == {
        ("tcp", 8000, "admin"),
        ("tcp", 8080, "app private"),
        ("udp", 5353, "app private"),
        ("tcp", 9000, "app hidden"),
    }
    assert firewall_ruleset().lan == (ipaddress.ip_network("192.168.1.0/24"),)


@pytest.mark.django_db
def test_openings_say_who_may_reach_each_app_port():
    inst = app("shown", ["tcp/8443"], public=True)
    assert firewall_openings() == [
        {"protocol": "tcp", "port": 8443, "app": "shown", "app_id": inst.pk, "title": "shown", "access": "public"}
    ]


def test_off_with_no_nft_installed_is_quiet(tmp_path, monkeypatch):
    from firewall.services import firewall_apply

    monkeypatch.setenv("PATH", str(tmp_path))  # no nft anywhere: a try-out that never ran setup's firewall step
    with override_settings(FIREWALL=False):
        assert firewall_apply() is False
