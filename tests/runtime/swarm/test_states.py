"""Task states in container words, and the events made from them (no engine needed)."""

from __future__ import annotations

from runtime.swarm.events import Seen, changes
from runtime.swarm.tasks import container_from_service, inspect_document, newest_first, restart_count, state_of

SERVICE = {
    "ID": "s1",
    "CreatedAt": "2026-12-07T10:00:00.5Z",
    "Spec": {
        "Name": "app-web-1",
        "Labels": {"io.casaos.app": "app"},
        "Mode": {"Replicated": {"Replicas": 1}},
        "TaskTemplate": {
            "ContainerSpec": {"Image": "nginx:1.25@sha256:abc", "HealthCheck": {"Test": ["CMD", "true"]}},
            "RestartPolicy": {"Condition": "any"},
        },
    },
}


def _task(tid: str, state: str, created: str, code: int | None = None, node: str = "n2") -> dict:
    status: dict = {"State": state, "Message": state}
    if code is not None:
        status["ContainerStatus"] = {"ExitCode": code, "ContainerID": "c" + tid}
    return {"ID": tid, "NodeID": node, "CreatedAt": created, "DesiredState": "running", "Status": status}


def test_it_sorts_tasks_newest_first_whatever_the_fraction_digits():
    tasks = [_task("a", "failed", "2026-12-07T10:00:01.9Z"), _task("b", "running", "2026-12-07T10:00:01.10Z")]
    assert [t["ID"] for t in newest_first(tasks)] == ["a", "b"]


def test_states():
    never = {**SERVICE}
    assert state_of(never, []) == ("created", None)
    assert state_of({**SERVICE, "PreviousSpec": {}}, []) == ("exited", None)
    assert state_of(SERVICE, [_task("a", "running", "t2")]) == ("running", None)
    assert state_of(SERVICE, [_task("a", "preparing", "t2")]) == ("created", None)
    assert state_of(SERVICE, [_task("b", "pending", "t3"), _task("a", "failed", "t2", 2)]) == ("restarting", None)
    assert state_of(SERVICE, [_task("a", "complete", "t2", 0)]) == ("exited", 0)
    assert state_of(SERVICE, [_task("a", "rejected", "t2")]) == ("exited", -1)


def test_container_from_service_reads_health_node_and_image():
    info = container_from_service(SERVICE, [_task("a", "running", "t2")], hostnames={"n2": "casaos-sw2"})
    assert info.running and info.health == "healthy" and info.image == "nginx:1.25"
    assert "casaos-sw2" in info.status and info.labels == {"io.casaos.app": "app"}
    starting = container_from_service(SERVICE, [_task("a", "starting", "t2")], hostnames={})
    assert starting.state == "created" and starting.health == "starting"


def test_inspect_document_counts_failed_tasks_as_restarts():
    tasks = [_task("c", "pending", "t4"), _task("b", "failed", "t3", 1), _task("a", "failed", "t2", 1)]
    doc = inspect_document(SERVICE, [*tasks, _task("z", "shutdown", "t1", 0)], image="sha256:x")
    assert restart_count(tasks) == 2 and doc["RestartCount"] == 2
    assert doc["HostConfig"]["RestartPolicy"]["Name"] == "always" and doc["Image"] == "sha256:x"


def _seen(state: str, task: str = "", code: int | None = None) -> Seen:
    return Seen(state=state, task=task, exit_code=code, name="app-web-1", image="x", labels={"io.casaos.app": "a"})


def test_events_follow_the_task_states():
    assert [a for _s, a, _x in changes({}, {"s": _seen("created")})] == ["create"]
    assert [a for _s, a, _x in changes({"s": _seen("created")}, {"s": _seen("running", "t1")})] == ["start"]
    died = list(changes({"s": _seen("running", "t1")}, {"s": _seen("exited", code=3)}))
    assert [(a, x.exit_code) for _s, a, x in died] == [("die", 3)]
    restarted = list(changes({"s": _seen("running", "t1")}, {"s": _seen("running", "t2", code=3)}))
    # a new task while we looked away: the old one died (the newest ended task's exit code), the new one started
    assert [a for _s, a, _x in restarted] == ["die", "start"] and restarted[0][2].exit_code == 3
    gone = changes({"s": _seen("running", "t1")}, {})
    assert [a for _s, a, _x in gone] == ["die", "destroy"]


def test_a_start_counts_a_task_that_ran_and_ended_on_its_own():
    from runtime.swarm.engine import _started

    ran = {"Status": {"State": "failed", "Err": "task: non-zero exit (3)"}}
    never = {"Status": {"State": "rejected", "Err": 'invalid mount config for type "bind"'}}
    assert _started({"Status": {"State": "complete"}}, health=False)
    assert _started(ran, health=False) and not _started(never, health=False)
    assert _started({"Status": {"State": "starting"}}, health=True)
    assert not _started({"Status": {"State": "starting"}}, health=False)


def test_a_node_volume_line_reads_back_its_labels():
    from runtime.swarm.volumes import _volume_line

    volume = _volume_line("local\tapp_data\tio.casaos.app=app,com.docker.compose.volume=data")
    assert (volume.name, volume.driver) == ("app_data", "local")
    assert volume.labels == {"io.casaos.app": "app", "com.docker.compose.volume": "data"}


def test_a_start_listener_is_the_starting_threads_own():
    """One engine serves every install of a worker process: a listener set for one install's start in its thread
    must not hear another thread's starts."""
    import threading

    from runtime.swarm import SwarmEngine

    engine = SwarmEngine("unix:///nonexistent.sock")  # connects lazily: nothing is asked of an engine here
    engine.on_task = print
    seen = []
    other = threading.Thread(target=lambda: seen.append(engine.on_task))
    other.start()
    other.join()
    assert seen == [None] and engine.on_task is print
