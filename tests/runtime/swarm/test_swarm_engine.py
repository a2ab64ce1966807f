"""SwarmEngine against the real two-node test swarm: an app placed on node2 runs there, stops, starts, reports
events and logs, waits when its node is drained, and leaves nothing labelled on either node when removed."""

from __future__ import annotations

import random
import threading
import time
import urllib.request
from pathlib import Path

import docker
import pytest

from runtime import labels as L
from runtime.errors import EngineError, InvalidSpec, NotFound, PortInUse
from runtime.specs import ContainerSpec, FileSpec, MountSpec, NetworkAttachment, NetworkSpec, PortSpec, VolumeSpec
from runtime.subnets import SubnetPool
from runtime.swarm import SwarmEngine

from .conftest import BUSYBOX, HTTPD, swarm_app_remove

pytestmark = [pytest.mark.swarm, pytest.mark.docker]
DEADLINE = 60.0  # seconds for the cluster to show a change (scheduling, a node's state)


def _port() -> int:
    """A host port on node2's own network namespace (nothing else publishes there in these tests)."""
    return random.randint(20000, 29999)


def _app(engine: SwarmEngine, app: str, port: int) -> tuple[ContainerSpec, ContainerSpec]:
    """Network, volume and two services: web (httpd with a config file, a published port), db (busybox)."""
    network = L.network_name(app, "default")
    engine.create_network(NetworkSpec(name=network, key="default", labels=L.network_labels(app, "default")))
    volume = L.volume_name(app, "data")
    engine.create_volume(VolumeSpec(name=volume, key="data", labels=L.volume_labels(app, "data")))
    web = ContainerSpec(
        name=L.container_name(app, "web"),
        image=HTTPD,
        service="web",
        labels=L.container_labels(app, "web"),
        ports=(PortSpec(target=8080, published=port),),
        networks=(NetworkAttachment(network, aliases=("web",)),),
        files=(
            FileSpec(target="/www/conf.txt", content=f"configured {app}\n".encode()),
            FileSpec(target="/www/key.txt", content=b"s3cret\n", mode=0o444, secret=True),  # compose `secrets`
        ),
        restart="always",
    )
    db = ContainerSpec(
        name=L.container_name(app, "db"),
        image=BUSYBOX,
        service="db",
        labels=L.container_labels(app, "db"),
        command=(
            "sh",
            "-c",
            "echo db ready; wget -qO- http://web:8080/conf.txt; trap 'exit 3' TERM; while :; do sleep 1; done",
        ),
        networks=(NetworkAttachment(network, aliases=("db",)),),
        mounts=(MountSpec(type="volume", source=volume, target="/data"),),
        restart="always",
    )
    for spec in (web, db):
        engine.create(spec)
    return web, db


def _until(check, what: str):
    """Poll the cluster until `check()` is truthy (bounded); its value."""
    deadline = time.monotonic() + DEADLINE
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return value


def _labelled(url: str, app: str) -> dict[str, list[str]]:
    """Everything with the app's label on one node's engine (its own view: containers, volumes, networks)."""
    api = docker.APIClient(base_url=url, version="auto")
    label = {"label": [f"{L.APP}={app}"]}
    return {
        "containers": [c["Id"] for c in api.containers(all=True, filters=label)],
        "volumes": [v["Name"] for v in api.volumes(filters=label).get("Volumes") or []],
        "networks": [n["Name"] for n in api.networks(filters=label)],
    }


def test_it_runs_a_two_service_app_on_its_node_and_leaves_nothing(swarm_cluster, swarm_engine, app_name):
    engine, port = swarm_engine, _port()
    events = engine.events(labels={L.APP: app_name})
    seen: list[tuple[str, str, int | None]] = []
    reader = threading.Thread(target=lambda: seen.extend((e.action, e.name, e.exit_code) for e in events))
    reader.start()
    try:
        web, db = _app(engine, app_name, port)
        assert {c.name: c.state for c in engine.list({L.APP: app_name})} == {web.name: "created", db.name: "created"}
        told = []
        engine.on_task = told.append  # the install's progress: each state the started task passes through
        engine.start(web.name)
        engine.start(db.name)
        assert {(t.service, t.node) for t in told if t.state == "running"} == {
            (web.name, "casaos-sw2"),
            (db.name, "casaos-sw2"),
        }
        for spec in (web, db):
            info = engine.inspect(spec.name)
            assert info.running and info.labels[L.APP] == app_name
            assert engine.tasks(spec.name)[0].node == "casaos-sw2"
        answer = urllib.request.urlopen(f"http://{swarm_cluster.node2_addr}:{port}/conf.txt", timeout=10).read()
        assert answer == f"configured {app_name}\n".encode()
        secret = urllib.request.urlopen(f"http://{swarm_cluster.node2_addr}:{port}/key.txt", timeout=10).read()
        assert secret == b"s3cret\n"  # a Swarm secret, not a config
        service = docker.APIClient(base_url=swarm_cluster.manager_url, version="auto").inspect_service(web.name)
        assert [f["File"]["Name"] for f in service["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"]] == [
            "/www/key.txt"
        ]
        assert engine.inspect(web.name).ports[0].host_port == port
        # db found web by its alias on the overlay network, and its log comes back through the manager
        logs = _until(lambda: [line for line in engine.logs(db.name) if "configured" in line], "db's log")
        assert logs == [f"configured {app_name}"]
        assert "db ready" in list(engine.logs(db.name, tail=10))

        engine.stop(db.name)
        assert not engine.inspect(db.name).running
        assert all(t.state != "running" for t in engine.tasks(db.name))
        engine.start(db.name)
        assert engine.inspect(db.name).running
        _until(lambda: [a for a, n, _c in seen if n == db.name].count("start") >= 2, "db's second start event")
        assert (web.name, "create") in {(n, a) for a, n, _c in seen}
        assert ("die", db.name) in {(a, n) for a, n, _c in seen}

        once = ContainerSpec(
            name=L.container_name(app_name, "once"),
            image=BUSYBOX,
            service="once",
            labels=L.container_labels(app_name, "once"),
            command=("sh", "-c", "sleep 1; exit 3"),
        )
        engine.create(once)
        engine.start(once.name)
        ended = _until(lambda: engine.inspect(once.name).state == "exited" and engine.inspect(once.name), "its end")
        assert ended.exit_code == 3
        _until(lambda: ("die", once.name, 3) in seen, "its die event with the exit code")
    finally:
        events.close()
        reader.join(timeout=10)
        swarm_app_remove(engine, app_name)
    assert engine.list({L.APP: app_name}) == []
    for url in (swarm_cluster.manager_url, swarm_cluster.worker_url):
        assert _until(
            lambda u=url: _labelled(u, app_name) == {"containers": [], "volumes": [], "networks": []} or None, ""
        )
    manager = docker.APIClient(base_url=swarm_cluster.manager_url, version="auto")
    assert manager.configs(filters={"label": [f"{L.APP}={app_name}"]}) == []
    assert manager.secrets(filters={"label": [f"{L.APP}={app_name}"]}) == []
    assert manager.services(filters={"label": [f"{L.APP}={app_name}"]}) == []


@pytest.mark.serial
def test_a_node_pinned_app_waits_while_its_node_is_drained(swarm_cluster, swarm_engine, app_name):
    engine = swarm_engine
    spec = ContainerSpec(
        name=L.container_name(app_name, "db"),
        image=BUSYBOX,
        service="db",
        labels=L.container_labels(app_name, "db"),
        restart="unless-stopped",  # with "no", Swarm does not replace a task its node's drain stopped
    )
    engine.create(spec)
    engine.start(spec.name)
    api = docker.APIClient(base_url=swarm_cluster.manager_url, version="auto")
    _availability(api, swarm_cluster.node2_id, "drain")
    try:
        # Pending first says "pending task scheduling"; the scheduler's reason comes a moment later.
        task = _until(
            lambda: next((t for t in engine.tasks(spec.name) if _unplaceable(t)), None), "a task waiting for a node"
        )
        assert task.state == "pending"
        assert engine.inspect(spec.name).state == "created"  # waiting for a node, not running anywhere else
        assert all(t.node != "casaos-sw1" for t in engine.tasks(spec.name))
    finally:
        _availability(api, swarm_cluster.node2_id, "active")
    _until(lambda: engine.inspect(spec.name).running, "the task running again on node2")
    assert engine.tasks(spec.name)[0].node == "casaos-sw2"


def _unplaceable(task) -> bool:
    return task.state == "pending" and "no suitable node" in task.error + task.message


def _availability(api: docker.APIClient, node_id: str, availability: str) -> None:
    node = api.inspect_node(node_id)
    api.update_node(node_id, node["Version"]["Index"], {**node["Spec"], "Availability": availability})


def test_bind_folders_pin_the_app_to_this_box(swarm_cluster, app_name, tmp_path: Path):
    engine = SwarmEngine(swarm_cluster.manager_url)  # any node
    (tmp_path / "hello.txt").write_text("from the manager\n")
    spec = ContainerSpec(
        name=L.container_name(app_name, "web"),
        image=BUSYBOX,
        service="web",
        labels=L.container_labels(app_name, "web"),
        command=("sh", "-c", "cat /srv/hello.txt; while :; do sleep 1; done"),
        mounts=(MountSpec(type="bind", source=str(tmp_path), target="/srv", read_only=True),),
    )
    try:
        engine.create(spec)
        engine.start(spec.name)
        assert engine.tasks(spec.name)[0].node == "casaos-sw1"
        assert _until(lambda: [x for x in engine.logs(spec.name) if "manager" in x], "the file's line")
        assert engine.counters(spec.name).memory_usage > 0  # on the node we talk to: stats work
        session = engine.exec(spec.name, ["cat", "/srv/hello.txt"], tty=False)
        assert session.read_all() == b"from the manager\n"
    finally:
        swarm_app_remove(engine, app_name)


def test_named_volumes_pin_the_app_to_the_node_of_its_first_run(swarm_cluster, app_name):
    engine = SwarmEngine(swarm_cluster.manager_url)
    volume = L.volume_name(app_name, "data")
    spec = ContainerSpec(
        name=L.container_name(app_name, "db"),
        image=BUSYBOX,
        service="db",
        labels=L.container_labels(app_name, "db"),
        mounts=(MountSpec(type="volume", source=volume, target="/data"),),
    )
    try:
        engine.create(spec)
        engine.start(spec.name)
        first = engine.tasks(spec.name)[0]
        constraints = engine._service(spec.name)["Spec"]["TaskTemplate"]["Placement"]["Constraints"]
        assert constraints == [f"node.id=={first.node_id}"]
        time.sleep(2)  # a placement-only change must not replace the running task: nothing to wait for
        assert engine.tasks(spec.name)[0].id == first.id and engine.inspect(spec.name).running
        found = engine.list_volumes({L.APP: app_name})
        assert [(v.name, v.labels[L.VOLUME]) for v in found] == [(volume, "data")]
    finally:
        swarm_app_remove(engine, app_name)
    assert engine.list_volumes({L.APP: app_name}) == []


def test_on_another_node_stats_and_exec_say_so(swarm_engine, app_name):
    spec = ContainerSpec(
        name=L.container_name(app_name, "db"), image=BUSYBOX, service="db", labels=L.container_labels(app_name, "db")
    )
    swarm_engine.create(spec)
    swarm_engine.start(spec.name)
    for action in (swarm_engine.stats, swarm_engine.counters, lambda ref: swarm_engine.exec(ref, ["true"])):
        with pytest.raises(EngineError) as caught:
            action(spec.name)
        assert "another node (casaos-sw2)" in caught.value.message


def test_start_reports_the_task_error(swarm_cluster, app_name, tmp_path: Path):
    engine = SwarmEngine(swarm_cluster.manager_url)
    missing = tmp_path / "not-there"
    spec = ContainerSpec(
        name=L.container_name(app_name, "web"),
        image=BUSYBOX,
        service="web",
        labels=L.container_labels(app_name, "web"),
        mounts=(MountSpec(type="bind", source=str(missing), target="/srv", create_host_path=False),),
    )
    try:
        engine.create(spec)
        with pytest.raises(EngineError) as caught:
            engine.start(spec.name)
        assert "bind source path does not exist" in caught.value.message
        assert engine.inspect(spec.name).state == "exited"
    finally:
        swarm_app_remove(engine, app_name)


def test_it_refuses_what_swarm_cannot_do_before_making_anything(swarm_engine, app_name):
    spec = ContainerSpec(
        name=L.container_name(app_name, "web"),
        image=BUSYBOX,
        labels=L.container_labels(app_name, "web"),
        files=(FileSpec(target="/etc/x", content=b"x"),),
        privileged=True,
    )
    with pytest.raises(InvalidSpec, match="privileged"):
        swarm_engine.create(spec)
    with pytest.raises(NotFound):
        swarm_engine.inspect(spec.name)


def test_rename_keeps_the_service_under_another_name(swarm_engine, app_name):
    name = L.container_name(app_name, "web")
    spec = ContainerSpec(name=name, image=BUSYBOX, service="web", labels=L.container_labels(app_name, "web"))
    swarm_engine.create(spec)
    swarm_engine.rename(name, L.aside_name(name))
    with pytest.raises(NotFound):
        swarm_engine.inspect(name)
    moved = swarm_engine.inspect(L.aside_name(name))
    assert moved.labels == spec.labels and moved.state == "created"
    swarm_engine.rename(L.aside_name(name), name)
    assert swarm_engine.inspect(name).name == name


def test_app_networks_are_overlays_on_a_subnet_of_the_pool(swarm_engine, app_name):
    pool = SubnetPool.parse(["10.252.0.0/16"], 24)
    made = []
    try:
        for key in ("default", "backend"):
            spec = NetworkSpec(name=L.network_name(app_name, key), key=key, labels=L.network_labels(app_name, key))
            made.append(swarm_engine.create_network_in_pool(spec, pool))
        found = {n.name: n for n in swarm_engine.list_networks({L.APP: app_name})}
        assert {n.driver for n in found.values()} == {"overlay"}
        subnets = [s for s in swarm_engine.network_subnets() if s.startswith("10.252.")]
        assert len(set(subnets)) >= 2  # each took a subnet of its own, and the next one sees them taken
    finally:
        for network in made:
            swarm_engine.remove_network(network)


def test_a_port_taken_on_its_node_is_port_in_use(swarm_engine, app_name):
    port = _port()
    specs = [
        ContainerSpec(
            name=L.container_name(app_name, service),
            image=HTTPD,
            service=service,
            labels=L.container_labels(app_name, service),
            ports=(PortSpec(target=8080, published=port),),
        )
        for service in ("one", "two")
    ]
    for spec in specs:
        swarm_engine.create(spec)
    swarm_engine.start(specs[0].name)
    with pytest.raises(PortInUse):
        swarm_engine.start(specs[1].name)
    assert swarm_engine.inspect(specs[1].name).state != "running"
    tasks = swarm_engine.tasks(specs[1].name)  # read once: Swarm forgets the refused task at any moment
    assert all(t.desired_state != "running" for t in tasks)
