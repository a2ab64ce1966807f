"""A unique app per test on the two-node test swarm (tests/conftest.py swarm_cluster), all of it removed after."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from runtime import labels as L
from runtime.swarm import Placement, SwarmEngine

HTTPD = "127.0.0.1:5000/casa/httpd:1"
BUSYBOX = "127.0.0.1:5000/casa/busybox:1"


@pytest.fixture
def app_name() -> str:
    """A label value of its own for each test, so a test finds and removes only what it made."""
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
