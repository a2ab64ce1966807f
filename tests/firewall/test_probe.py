"""The firewall seen from a second network namespace: a LAN peer reaches a real published container port (Docker
and Podman, both DNAT to the container) and the admin port; "outside" is refused until the app is made public.
These change the host's nftables and interfaces: serial."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator

import pytest
from django.test import override_settings

from apps.models import Installation
from firewall.host.nft import FAMILY, TABLE, Nft
from firewall.selectors import firewall_lan
from firewall.services import firewall_apply
from proxy.models import AppAddress
from runtime import labels as L
from runtime.specs import ContainerSpec, PortSpec
from tests.conftest import free_port
from tests.runtime.conftest import HTTPD, any_engine, project  # noqa: F401 (fixtures: Docker then Podman)

pytestmark = [pytest.mark.serial, pytest.mark.django_db]
ON = {"FIREWALL": True, "FIREWALL_LAN": ["auto"]}


def until_open(peer, port: int) -> str:
    """The container's server is up once the LAN peer gets its answer (before any rule is loaded)."""
    deadline = time.monotonic() + 60
    answer = peer.probe(port, outside=False)
    while not answer.startswith("open") and time.monotonic() < deadline:
        answer = peer.probe(port, outside=False)
    return answer


@pytest.fixture
def published(any_engine, project, peer) -> Iterator[int]:  # noqa: F811
    """A running container of the test image with its port 8080 published on a free host port, on all addresses."""
    port = free_port()
    spec = ContainerSpec(
        name=f"{project}-web", image=HTTPD, labels={L.APP: project}, ports=(PortSpec(target=8080, published=port),)
    )
    any_engine.start(any_engine.create(spec))
    with podman_forwarding(any_engine, port):
        assert until_open(peer, port).startswith("open")
        yield port


@contextlib.contextmanager
def podman_forwarding(engine, port: int) -> Iterator[None]:
    """Let the LAN reach Podman's published port at all on this machine, for the test's one port.

    Podman here publishes through CNI, whose firewall plugin accepts only replies and the container's own traffic in
    FORWARD and counts on the chain's policy for new connections; Docker, running beside it, sets that policy to
    DROP. So, with or without our table, no other host reaches a Podman port here. CNI's chain for admins' own
    rules (CNI-ADMIN) takes the accept that a host without Docker would not need: it runs after our table, which
    still refuses "outside" first.
    """
    if engine.version().engine != "podman":
        yield
        return
    rule = [
        "CNI-ADMIN",
        "-p",
        "tcp",
        "-m",
        "conntrack",
        "--ctstate",
        "DNAT",
        "--ctorigdstport",
        str(port),
        "-j",
        "ACCEPT",
    ]
    subprocess.run(["iptables", "-I", *rule], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["iptables", "-D", *rule], check=False, capture_output=True)


def app_with(port: int, *, name: str = "web") -> Installation:
    return Installation.objects.create(
        name=name, compose="services: {}", ports=[f"tcp/{port}"], status=Installation.Status.RUNNING
    )


def test_it_counts_the_peer_subnet_as_lan_and_outside_not(peer):
    with override_settings(**ON):
        lan = [str(n) for n in firewall_lan()]
    assert "192.168.231.0/24" in lan and "fd31:231::/64" in lan
    assert not any(n.startswith(("198.51.100.", "2001:db8:")) for n in lan)


def test_a_published_container_port_is_lan_only_until_the_app_is_public(published, peer, our_table_removed):
    app = app_with(published)
    with override_settings(**ON, FIREWALL_ADMIN_PORTS=[]):
        assert firewall_apply() is True
        assert peer.probe(published, outside=False) == "open HTTP/1.1 200 OK"
        assert peer.probe(published, outside=True) == "refused"  # Docker's DNAT and accept did not let it past

        AppAddress.objects.create(installation=app, name="web", public=True)
        firewall_apply()
        assert peer.probe(published, outside=True) == "open HTTP/1.1 200 OK"
        assert peer.probe(published, outside=False) == "open HTTP/1.1 200 OK"

        AppAddress.objects.filter(installation=app).update(public=False)
        firewall_apply()
        assert peer.probe(published, outside=True) == "refused"


def test_the_admin_port_is_lan_only_even_when_every_app_is_public(listener, peer, our_table_removed):
    app = app_with(free_port())
    AppAddress.objects.create(installation=app, name="web", public=True)
    assert peer.probe(listener, outside=True) == "open hi"  # nothing loaded yet: the listener answers anyone
    with override_settings(**ON, FIREWALL_ADMIN_PORTS=[listener]):
        firewall_apply()
    assert peer.probe(listener, outside=False) == "open hi"
    assert peer.probe(listener, outside=True) == "refused"
    assert peer.probe(listener, outside=False, v6=True) == "open hi"  # fd31:231::/64, unique local: the LAN
    assert peer.probe(listener, outside=True, v6=True) == "refused"  # 2001:db8:231::/64: outside


def test_turning_it_off_removes_our_table_and_opens_the_port_again(listener, peer, our_table_removed):
    with override_settings(**ON, FIREWALL_ADMIN_PORTS=[listener]):
        firewall_apply()
    assert Nft().listing()
    assert peer.probe(listener, outside=True) == "refused"
    with override_settings(FIREWALL=False):
        assert firewall_apply() is False
    assert Nft().listing() == ""
    assert peer.probe(listener, outside=True) == "open hi"
    with override_settings(FIREWALL=False):
        firewall_apply()  # removing what is not there is not an error


def test_it_never_touches_another_table(listener, our_table_removed):
    canary = "table inet casaos_test_canary {\n chain c {\n  tcp dport 9 counter drop\n }\n}\n"
    subprocess.run(["nft", "-f", "-"], input=canary, text=True, check=True)
    try:
        with override_settings(**ON, FIREWALL_ADMIN_PORTS=[listener]):
            firewall_apply()
        with override_settings(FIREWALL=False):
            firewall_apply()
        left = subprocess.run(["nft", "list", "table", "inet", "casaos_test_canary"], capture_output=True, text=True)
        assert "tcp dport 9 counter packets 0 bytes 0 drop" in left.stdout
    finally:
        subprocess.run(["nft", "delete", "table", "inet", "casaos_test_canary"], capture_output=True, check=False)


def test_a_failed_load_leaves_the_rules_that_were_in_force(listener, peer, our_table_removed):
    with override_settings(**ON, FIREWALL_ADMIN_PORTS=[listener]):
        firewall_apply()
    before = Nft().listing()
    broken = (
        f"table {FAMILY} {TABLE}\ndelete table {FAMILY} {TABLE}\ntable {FAMILY} {TABLE} {{ chain x {{ nonsense }} }}\n"
    )
    done = subprocess.run(["nft", "-f", "-"], input=broken, text=True, capture_output=True, check=False)
    assert done.returncode != 0
    assert Nft().listing() == before  # one transaction: the delete did not happen either
    assert peer.probe(listener, outside=True) == "refused"
