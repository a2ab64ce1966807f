"""Engine failures that come from a race inside the engine: recognised, and the request made again (bounded, logged)."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator

import docker.errors
import pytest
import requests

from runtime import docker as D
from runtime import errors as E
from runtime import labels as L
from runtime.specs import NetworkSpec
from runtime.subnets import SubnetPool
from tests.conftest import missing
from tests.runtime.conftest import free_region

# What Podman 4 (Go before 1.24) answers when a host interface vanished between its two netlink dumps.
VANISHED = "route ip+net: no such network interface"


def _api_error(message: str, status: int = 500) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError(message, response=response, explanation=message)


class _FlakyApi:
    """The part of docker.APIClient that creating a network uses; the first `races` creates lose the race."""

    def __init__(self, races: int) -> None:
        self.races = races
        self.creates: list[str] = []

    def create_network(self, name: str, **kwargs) -> dict:
        self.creates.append(name)
        if len(self.creates) <= self.races:
            raise _api_error(VANISHED)
        return {"Id": f"id-of-{name}"}


def _engine(api: _FlakyApi, monkeypatch) -> D.DockerEngine:
    engine = D.DockerEngine("unix:///nowhere.sock")
    engine._api = api
    monkeypatch.setattr(D.time, "sleep", lambda seconds: None)
    return engine


def test_it_recognises_a_vanished_host_interface_as_a_race_that_heals():
    error = D._map(_api_error(VANISHED))
    assert isinstance(error, E.EngineRace) and not error.permanent
    assert error.message == VANISHED


def test_other_server_errors_stay_plain_engine_errors():
    error = D._map(_api_error("netavark: some other failure"))
    assert type(error) is E.EngineError and not error.permanent


def test_a_network_create_that_raced_a_vanishing_interface_is_made_again(monkeypatch, caplog):
    api = _FlakyApi(races=2)
    engine = _engine(api, monkeypatch)
    with caplog.at_level(logging.WARNING, logger="runtime.docker"):
        assert engine.create_network(NetworkSpec(name="app_default")) == "id-of-app_default"
    assert api.creates == ["app_default"] * 3
    retries = [r.getMessage() for r in caplog.records if r.name == "runtime.docker"]
    assert len(retries) == 2 and all(VANISHED in line and "app_default" in line for line in retries)


def test_it_gives_up_after_a_bounded_number_of_races(monkeypatch):
    api = _FlakyApi(races=1000)
    engine = _engine(api, monkeypatch)
    expected = rf"network app_default: .* {D.RACE_ATTEMPTS} times in a row \({re.escape(VANISHED)}\)"
    with pytest.raises(E.EngineRace, match=expected) as caught:
        engine.create_network(NetworkSpec(name="app_default"))
    assert len(api.creates) == D.RACE_ATTEMPTS
    assert not caught.value.permanent


def test_a_refusal_that_is_no_race_is_not_repeated(monkeypatch):
    api = _FlakyApi(races=0)
    api.create_network = lambda name, **kwargs: (api.creates.append(name), _raise(_api_error("network exists", 409)))
    engine = _engine(api, monkeypatch)
    with pytest.raises(E.Conflict):
        engine.create_network(NetworkSpec(name="app_default"))
    assert api.creates == ["app_default"]


def _raise(exc: Exception):
    raise exc


# ------------------------------------------------------------------ the real race, on Podman
CHURNERS = 16  # processes adding and removing interfaces at once: about one Podman network create in four loses
PROVOKE_FOR = 60.0  # seconds at most to wait for the first lost race (it comes within a few seconds)


@pytest.fixture
def host_interfaces_churning() -> Iterator[None]:
    """Veth pairs with an address added and removed on the host as fast as it goes, as stopping containers do."""
    if shutil.which("ip") is None:
        missing("the ip command (iproute2) is needed to add and remove host interfaces")
    tag, stop = uuid.uuid4().hex[:4], threading.Event()
    names = [f"crc{tag}{k}" for k in range(CHURNERS)]
    probe = subprocess.run(["ip", "link", "add", names[0], "type", "veth", "peer", "name", f"{names[0]}p"], text=True)
    if probe.returncode:
        missing("adding a veth pair to the host needs CAP_NET_ADMIN (run the suite as root)")
    subprocess.run(["ip", "link", "del", names[0]], check=True)
    threads = [threading.Thread(target=_churn, args=(name, k, stop)) for k, name in enumerate(names)]
    for thread in threads:
        thread.start()
    yield
    stop.set()
    for thread in threads:
        thread.join()
    for name in names:  # deleting one end of a veth pair removes both
        subprocess.run(["ip", "link", "del", name], stderr=subprocess.DEVNULL)


def _churn(name: str, k: int, stop: threading.Event) -> None:
    # 198.18.0.0/15 is reserved for benchmarks: no app pool, LAN or route of the machine is in it; a /32 adds no route.
    cycle = f"link add {name} type veth peer name {name}p\naddr add 198.18.77.{k + 1}/32 dev {name}\nlink del {name}\n"
    while not stop.is_set():
        subprocess.run(["ip", "-force", "-batch", "-"], input=cycle * 5, text=True, stderr=subprocess.DEVNULL)


@pytest.mark.podman
@pytest.mark.serial  # it adds and removes host interfaces many times a second: every engine on the machine sees that
@pytest.mark.parametrize("any_engine", ["podman"], indirect=True)
def test_podman_networks_are_made_while_host_interfaces_come_and_go(
    any_engine, project, host_interfaces_churning, caplog
):
    pool = SubnetPool.parse([free_region(any_engine)], 24)
    made: list[str] = []
    deadline = time.monotonic() + PROVOKE_FOR
    with caplog.at_level(logging.WARNING, logger="runtime.docker"):
        while not _races(caplog) and time.monotonic() < deadline:
            spec = NetworkSpec(name=f"{project}_n{len(made)}", labels=L.network_labels(project, f"n{len(made)}"))
            net_id = any_engine.create_network_in_pool(spec, pool)
            assert [n.id for n in any_engine.list_networks({L.APP: project})] == [net_id]
            made.append(spec.name)
            any_engine.remove_network(spec.name)  # the pool region holds four: keep it free for the next one
    assert _races(caplog), f"Podman never lost the race in {len(made)} network creates"
    assert all(VANISHED in line for line in _races(caplog))


def _races(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "runtime.docker" and "lost a race" in r.getMessage()]


def test_a_start_whose_dns_plugin_lost_the_race_is_made_again(monkeypatch, caplog):
    """Podman's dnsname plugin runs dnsmasq on every start; it fails when an interface vanishes under it."""
    lost = 'cni plugin dnsname failed: dnsmasq failed with "dnsmasq: failed to find list of interfaces: Bad file'
    engine, starts = _engine(_FlakyApi(races=0), monkeypatch), []

    def start(ref):
        starts.append(ref)
        if len(starts) == 1:
            raise _api_error(lost)

    engine._api.start = start
    with caplog.at_level(logging.WARNING, logger="runtime.docker"):
        engine.start("app-web-1")
    assert starts == ["app-web-1", "app-web-1"]
    assert any("start container app-web-1" in r.getMessage() and "dnsmasq" in r.getMessage() for r in caplog.records)
