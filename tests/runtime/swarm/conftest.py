"""The two-node test swarm of scripts/swarm-test.sh, and a unique app per test whose objects are all removed."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import docker
import pytest

from runtime import labels as L
from runtime.swarm import Placement, SwarmEngine
from tests.conftest import missing

try:  # the lead's session fixture, once tests/swarm/ is merged
    from tests.swarm.conftest import swarm_cluster
except ImportError:
    MANAGER = "unix:///run/casaos-swarm/node1.sock"
    WORKER = "unix:///run/casaos-swarm/node2.sock"

    @dataclass(frozen=True)
    class _Cluster:
        manager_url: str
        worker_url: str
        node1_id: str
        node2_id: str
        node2_addr: str = "10.251.0.12"

    @pytest.fixture(scope="session")
    def swarm_cluster() -> _Cluster:
        """The running test swarm (scripts/swarm-test.sh up); fails under `make test` when it is not there."""
        ids = []
        for url in (MANAGER, WORKER):
            try:
                swarm = docker.APIClient(base_url=url, version="auto").info().get("Swarm") or {}
            except docker.errors.DockerException as exc:
                missing(f"the test swarm does not answer at {url} ({exc}); run scripts/swarm-test.sh up")
            ids.append(swarm.get("NodeID", ""))
        return _Cluster(MANAGER, WORKER, *ids)


HTTPD = "127.0.0.1:5000/casa/httpd:1"
BUSYBOX = "127.0.0.1:5000/casa/busybox:1"


@pytest.fixture
def app_name() -> str:
    return f"sw-{secrets.token_hex(5)}"


@pytest.fixture
def swarm_engine(swarm_cluster, app_name) -> Iterator[SwarmEngine]:
    """An engine placing apps on node2; afterwards everything labelled with the test's app is removed."""
    engine = SwarmEngine(swarm_cluster.manager_url, placement=Placement(node=swarm_cluster.node2_id))
    yield engine
    swarm_app_remove(engine, app_name)


def swarm_app_remove(engine: SwarmEngine, app: str) -> None:
    """What uninstall does: the volumes (listed first, while the services still name them), services, networks."""
    labels = {L.APP: app}
    volumes = [v.name for v in engine.list_volumes(labels)]
    for info in engine.list(labels):
        engine.remove(info.id, force=True)
    for net in engine.list_networks(labels):
        engine.remove_network(net.id)
    for name in volumes:
        engine.remove_volume(name, force=True)
