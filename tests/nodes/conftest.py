"""Fixtures of the nodes tests: this box's engine as the test swarm's manager (node1), as its worker (node2), or as
the plain test engine; and node2's availability and labels put back after a test changed them."""

from __future__ import annotations

import pytest

from nodes.services import swarm_active_forget
from runtime.swarm import Swarm

PLAIN_ENGINE = "unix:///var/run/docker.sock"  # the main test dockerd: never a swarm
PODMAN_ENGINE = "unix:///run/podman/podman.sock"


def _engine_at(settings, url: str):
    settings.ENGINE_URL = url
    swarm_active_forget()


@pytest.fixture
def plain_engine(settings):
    """This box's engine is the plain test engine: in no swarm."""
    _engine_at(settings, PLAIN_ENGINE)
    yield PLAIN_ENGINE
    swarm_active_forget()


@pytest.fixture
def managed(settings, swarm_cluster):
    """This box's engine is the test swarm's manager (node1)."""
    _engine_at(settings, swarm_cluster.manager_url)
    yield swarm_cluster
    swarm_active_forget()


@pytest.fixture
def on_worker(settings, swarm_cluster):
    """This box's engine is the test swarm's worker (node2): in a swarm, managing nothing."""
    _engine_at(settings, swarm_cluster.worker_url)
    yield swarm_cluster
    swarm_active_forget()


@pytest.fixture
def node2_restored(swarm_cluster):
    """node2 as it was (availability and labels), whatever the test changed."""
    cluster = Swarm(swarm_cluster.manager_url)
    before = cluster.node(swarm_cluster.node2_id)
    yield before
    cluster.update_node(swarm_cluster.node2_id, availability=before.availability, labels=before.labels)


@pytest.fixture
def spare(swarm_cluster):
    """node3, the spare machine: standalone before the test, and again after it (node1's swarm without it)."""
    from tests import swarm_spare
    from tests.conftest import missing

    if not swarm_spare.answers(swarm_cluster) and not swarm_spare.daemon_pids():
        missing("the test swarm's node3 does not answer; run scripts/swarm-test.sh up")
    swarm_spare.reset(swarm_cluster)
    yield swarm_cluster
    swarm_spare.reset(swarm_cluster)
