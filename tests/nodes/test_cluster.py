"""runtime/swarm/cluster.py against the real two-node test swarm (scripts/swarm-test.sh): node1 manages, node2
works. Tests that change the swarm (labels, availability, tokens) are serial and put back what they changed."""

from __future__ import annotations

import pytest

from runtime import errors as E
from runtime.swarm import JoinInfo, Swarm
from runtime.swarm.cluster import node_from_raw, state_from_info

pytestmark = pytest.mark.swarm


@pytest.fixture
def manager(swarm_cluster) -> Swarm:
    return Swarm(swarm_cluster.manager_url)


@pytest.fixture
def worker(swarm_cluster) -> Swarm:
    return Swarm(swarm_cluster.worker_url)


def test_the_manager_and_the_worker_say_where_they_stand(manager, worker, swarm_cluster):
    boss, hand = manager.state(), worker.state()
    assert boss.active and boss.manager and boss.node_id == swarm_cluster.node1_id
    assert boss.addr == swarm_cluster.node1_addr and boss.cluster_id
    assert hand.active and not hand.manager and hand.node_id == swarm_cluster.node2_id


def test_it_lists_both_nodes_with_roles_hostnames_and_resources(manager, swarm_cluster):
    nodes = manager.nodes()
    assert [(n.hostname, n.role) for n in nodes] == [("casaos-sw1", "manager"), ("casaos-sw2", "worker")]
    first, second = nodes
    assert first.id == swarm_cluster.node1_id and first.leader and first.current
    assert second.id == swarm_cluster.node2_id and not second.leader and not second.current
    assert second.addr == swarm_cluster.node2_addr and second.state == "ready"
    assert all(n.cpus > 0 and n.memory > 0 and n.engine_version for n in nodes)


def test_one_node_by_id_and_an_unknown_or_malformed_one(manager, swarm_cluster):
    assert manager.node(swarm_cluster.node2_id).hostname == "casaos-sw2"
    with pytest.raises(E.NotFound):
        manager.node("nosuchnode0000000000000000")
    # docker-py leaves "/" unquoted in path arguments: a reference like this one never reaches the engine.
    with pytest.raises(E.NotFound):
        manager.node("../containers/json")


def test_a_worker_is_told_it_manages_nothing(worker):
    for call in (worker.nodes, worker.join_info, lambda: worker.rotate("worker")):
        with pytest.raises(E.Conflict, match="not a swarm manager"):
            call()


def test_join_info_gives_both_tokens_and_the_commands(manager, swarm_cluster):
    info = manager.join_info()
    assert info.manager_addr == f"{swarm_cluster.node1_addr}:2377"
    assert info.worker_token.startswith("SWMTKN-1-") and info.manager_token.startswith("SWMTKN-1-")
    assert info.worker_token != info.manager_token
    assert info.command("worker") == f"docker swarm join --token {info.worker_token} {swarm_cluster.node1_addr}:2377"
    assert info.command("manager") == f"docker swarm join --token {info.manager_token} {swarm_cluster.node1_addr}:2377"
    with pytest.raises(E.InvalidSpec):
        info.command("boss")


@pytest.mark.serial
def test_rotating_a_token_changes_it_and_only_it(manager):
    before = manager.join_info()
    after = manager.rotate("worker")
    assert after.worker_token != before.worker_token and after.manager_token == before.manager_token
    assert manager.join_info().worker_token == after.worker_token  # the old one is not what the swarm takes now
    # SWMTKN-1-<the cluster CA's digest>-<the secret>: the same swarm, a new secret.
    assert after.worker_token.rsplit("-", 1)[0] == before.worker_token.rsplit("-", 1)[0]
    again = manager.rotate("manager")
    assert again.manager_token != before.manager_token and again.worker_token == after.worker_token
    with pytest.raises(E.InvalidSpec):
        manager.rotate("everyone")


@pytest.mark.serial
def test_labels_are_set_and_removed(manager, swarm_cluster, node2_restored):
    node = manager.update_node(swarm_cluster.node2_id, labels={"disk": "ssd", "gpu": "true"})
    assert node.labels == {"disk": "ssd", "gpu": "true"} and node.availability == node2_restored.availability
    assert manager.node(swarm_cluster.node2_id).labels == {"disk": "ssd", "gpu": "true"}
    assert manager.update_node(swarm_cluster.node2_id, labels={"disk": "ssd"}).labels == {"disk": "ssd"}
    assert manager.update_node(swarm_cluster.node2_id, labels={}).labels == {}


@pytest.mark.serial
def test_drain_then_activate(manager, swarm_cluster, node2_restored):
    assert manager.update_node(swarm_cluster.node2_id, availability="drain").availability == "drain"
    assert manager.node(swarm_cluster.node2_id).availability == "drain"
    node = manager.update_node(swarm_cluster.node2_id, availability="active")
    assert node.availability == "active" and node.role == "worker"
    with pytest.raises(E.InvalidSpec):
        manager.update_node(swarm_cluster.node2_id, availability="asleep")


@pytest.mark.serial
def test_an_update_made_on_a_stale_copy_is_made_again(swarm_cluster, node2_restored):
    """Another change lands between our read of the node and our write (Docker: "update out of sequence"): the write
    is read again and made once more, and neither change is lost."""

    class Raced(Swarm):
        raced = False

        def _inspect_node(self, node_id):
            raw = super()._inspect_node(node_id)
            if not self.raced:
                self.raced = True
                Swarm(swarm_cluster.manager_url).update_node(node_id, labels={"other": "change"})
            return raw

    cluster = Raced(swarm_cluster.manager_url)
    node = cluster.update_node(swarm_cluster.node2_id, availability="pause")
    assert cluster.raced and node.availability == "pause" and node.labels == {"other": "change"}


def test_removing_a_node_that_is_up_is_refused(manager, swarm_cluster):
    with pytest.raises(E.Conflict, match="still up: drain it and let it leave first, or force"):
        manager.remove_node(swarm_cluster.node2_id)
    assert manager.node(swarm_cluster.node2_id).state == "ready"


def test_init_on_an_active_swarm_is_a_conflict(manager, worker):
    for cluster in (manager, worker):  # refused before the engine is asked: neither is touched
        with pytest.raises(E.Conflict, match="already in a swarm"):
            cluster.init("10.251.0.11")


@pytest.mark.podman
def test_podman_has_no_swarm_mode():
    podman = Swarm("unix:///run/podman/podman.sock")
    assert not podman.has_swarm_mode() and not podman.state().active
    with pytest.raises(E.InvalidSpec, match="no Swarm mode"):
        podman.init("203.0.113.7")  # Podman has no /swarm endpoints: nothing can be made there


@pytest.mark.docker
def test_the_plain_engine_is_in_no_swarm():
    plain = Swarm("unix:///var/run/docker.sock")
    state = plain.state()
    assert not state.active and state.local_state == "inactive" and plain.has_swarm_mode()
    with pytest.raises(E.Conflict, match="not a swarm manager"):
        plain.join_info()
    with pytest.raises(E.Conflict, match="not in a swarm"):
        plain.leave()


def test_an_engine_that_does_not_answer_is_unavailable(tmp_path):
    with pytest.raises(E.EngineUnavailable):
        Swarm(f"unix://{tmp_path}/none.sock").state()


def test_node_json_is_read_as_docker_writes_it():
    raw = {
        "ID": "abc",
        "Spec": {"Role": "manager", "Availability": "drain", "Labels": {"disk": "ssd"}},
        "Description": {
            "Hostname": "nas",
            "Engine": {"EngineVersion": "27.3.1"},
            "Resources": {"NanoCPUs": 4_000_000_000, "MemoryBytes": 8 << 30},
        },
        "Status": {"State": "down", "Addr": "0.0.0.0", "Message": "heartbeat failure"},
        "ManagerStatus": {"Leader": False, "Addr": "192.168.1.20:2377"},
    }
    node = node_from_raw(raw, current_id="abc")
    assert (node.hostname, node.role, node.availability, node.state) == ("nas", "manager", "drain", "down")
    assert node.addr == "192.168.1.20" and node.cpus == 4.0 and node.memory == 8 << 30 and node.current
    assert node.labels == {"disk": "ssd"} and node.message == "heartbeat failure" and not node.leader
    assert not state_from_info({}).active and state_from_info({}).local_state == "inactive"
    assert JoinInfo("w", "m", "a:2377").command("manager") == "docker swarm join --token m a:2377"
