"""The real engines (Docker and Podman) driven through runtime.DockerEngine: lifecycle, I/O and error mapping."""

from __future__ import annotations

import contextlib
import socket
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import docker
import pytest
import requests

import runtime
from runtime import labels as L
from runtime.compose import load_project
from runtime.progress import PullAggregator
from tests.runtime.conftest import BUSYBOX, HTTPD, REGISTRY, free_region

pytestmark = pytest.mark.docker


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http_get(port: int, timeout: float = 20) -> str:
    """Poll until the container answers (start-up takes a moment, longer under load)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3) as resp:
                return resp.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _install(engine: runtime.Engine, text: str, project: str, **variables: str):
    """The minimal install pipeline: networks, volumes, then containers in dependency order."""
    proj = load_project(text, variables=variables, project_name=project)
    for net in proj.networks:
        engine.create_network(net)
    for vol in proj.volumes:
        engine.create_volume(vol)
    for spec in proj.containers:
        engine.create(spec)
        engine.start(spec.name)
    return proj


WEB = f"""
services:
  web:
    image: {HTTPD}
    ports: ["127.0.0.1:${{WEBUI_PORT}}:8080"]
    volumes: [data:/data]
    labels: {{com.example.role: web}}
volumes:
  data: {{}}
"""


def test_it_reports_version(any_engine):
    info = any_engine.version()
    assert info.version and info.api_version.startswith("1.")


def test_it_pulls_with_byte_progress(any_engine, fresh_image, slow_registry):
    if any_engine.version().engine == "docker":  # Podman would need the proxy in its registries.conf
        fresh_image = fresh_image.replace(REGISTRY, slow_registry)
    events: list[runtime.PullProgress] = []
    published: list[runtime.AppProgress] = []
    agg = PullAggregator([fresh_image], published.append, min_interval=0)

    def on_progress(event: runtime.PullProgress) -> None:
        events.append(event)
        agg(event)

    try:
        image_id = any_engine.pull(fresh_image, on_progress)
        assert any_engine.image_exists(fresh_image)
    finally:
        with contextlib.suppress(runtime.EngineError):
            any_engine.remove_image(fresh_image, force=True)
    agg.image_done(fresh_image)

    assert image_id
    assert published[-1].done and published[-1].percent == 100.0
    layers = {e.layer for e in events if e.layer}
    assert layers and all(any(e.layer == layer and e.status == "Download complete" for e in events) for layer in layers)
    if any_engine.version().engine == "podman":
        return  # Podman 4's compat pull stream has layer states but no byte counts (newer Podman adds them)
    downloading = [e for e in events if e.status == "Downloading"]
    assert downloading, [e.status for e in events]
    assert all(e.total > 0 for e in downloading)  # totals are known while bytes move
    currents = [e.current for e in downloading if e.layer == downloading[-1].layer]
    assert len(currents) >= 2 and currents == sorted(currents) and currents[-1] > currents[0]
    assert published[-1].total >= 4 << 20 and published[-1].current == published[-1].total


def test_it_runs_an_app_that_answers_http(any_engine, project):
    port = _free_port()
    proj = _install(any_engine, WEB, project, WEBUI_PORT=str(port))

    assert "hello v1" in _http_get(port)
    info = any_engine.inspect(f"{project}-web-1")
    assert info.running and info.labels[L.PROJECT] == project and info.labels[L.SERVICE] == "web"
    assert info.labels[L.CONFIG_HASH] == proj.containers[0].labels[L.CONFIG_HASH]
    assert info.labels["com.example.role"] == "web"
    assert any(p.target == 8080 and p.host_port == port for p in info.ports)
    listed = any_engine.list({L.APP: project})
    assert [c.name for c in listed] == [f"{project}-web-1"]
    assert [n.name for n in any_engine.list_networks({L.APP: project})] == [f"{project}_default"]
    assert [v.name for v in any_engine.list_volumes({L.APP: project})] == [f"{project}_data"]

    any_engine.stop(info.id, timeout=1)
    assert not any_engine.inspect(info.id).running
    any_engine.restart(info.id, timeout=1)
    assert "hello v1" in _http_get(port)
    any_engine.remove(info.id, force=True)
    assert any_engine.list({L.APP: project}) == []


def test_it_resolves_siblings_by_service_name(any_engine, project):
    port = _free_port()
    text = f"""
services:
  web:
    image: {HTTPD}
  probe:
    image: {BUSYBOX}
    command: ["sh", "-c", "wget -q -O - http://web:8080/ && sleep 3600"]
    depends_on: [web]
"""
    proj = _install(any_engine, text, project, WEBUI_PORT=str(port))
    assert proj.services == ("web", "probe")
    deadline = time.monotonic() + 20
    while "hello v1" not in "\n".join(any_engine.logs(f"{project}-probe-1")):
        assert time.monotonic() < deadline, "probe never reached web by its service name"
        time.sleep(0.3)


def test_a_link_reaches_the_linked_service_by_its_alias(any_engine, project):
    text = f"""
services:
  web:
    image: {HTTPD}
  probe:
    image: {BUSYBOX}
    command: ["sh", "-c", "wget -q -O - http://database:8080/ && sleep 3600"]
    links: ["web:database"]
"""
    proj = _install(any_engine, text, project)
    assert proj.services == ("web", "probe")  # the link made web start first
    networks = any_engine.container_config(f"{project}-web-1")["NetworkSettings"]["Networks"]
    assert "database" in networks[f"{project}_default"]["Aliases"]
    deadline = time.monotonic() + 20
    while "hello v1" not in "\n".join(any_engine.logs(f"{project}-probe-1")):
        assert time.monotonic() < deadline, "probe never reached web by the link's alias"
        time.sleep(0.3)


@pytest.mark.parametrize("mode", ["private", "host"])
def test_it_sets_the_cgroup_namespace_or_refuses(any_engine, project, mode):
    text = f"services:\n  job:\n    image: {BUSYBOX}\n    cgroup: {mode}\n"
    if any_engine.version().engine == "docker":
        _install(any_engine, text, project)
        assert any_engine.container_config(f"{project}-job-1")["HostConfig"]["CgroupnsMode"] == mode
        return
    # Podman 4 ignores CgroupnsMode on its Docker API: it either happens to match, or the create is refused.
    try:
        _install(any_engine, text, project)
    except runtime.InvalidSpec as exc:
        assert f"cgroup: {mode}" in exc.message
        assert any_engine.list({L.APP: project}) == []  # the container it made is gone again
        return
    job = f"{project}-job-1"
    assert any_engine._libpod_get(f"containers/{job}/json").json()["HostConfig"]["CgroupMode"] == mode


def test_networks_made_at_once_get_distinct_small_subnets_of_the_pool(any_engine, project, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from runtime import subnets
    from runtime.specs import NetworkSpec

    region = free_region(any_engine)
    pool = subnets.SubnetPool.parse([region], 24)  # room for four
    monkeypatch.setattr(subnets.random, "choice", lambda seq: seq[0])  # every worker wants the same one first
    specs = [
        NetworkSpec(name=f"{project}_n{i}", key=f"n{i}", labels=L.network_labels(project, f"n{i}")) for i in range(4)
    ]
    with ThreadPoolExecutor(4) as threads:
        list(threads.map(lambda spec: any_engine.create_network_in_pool(spec, pool), specs))
    got = sorted(any_engine.api.inspect_network(s.name)["IPAM"]["Config"][0]["Subnet"] for s in specs)
    assert got == [str(n) for n in pool.networks[0].subnets(new_prefix=24)]
    with pytest.raises(runtime.PoolExhausted, match=rf"app network pool \({region}, 4 networks of /24\)"):
        any_engine.create_network_in_pool(
            NetworkSpec(name=f"{project}_n5", labels=L.network_labels(project, "n5")), pool
        )
    assert len(any_engine.list_networks({L.APP: project})) == 4


def test_a_network_with_its_own_subnet_keeps_it(any_engine, project):
    from runtime.specs import IpamSpec, NetworkSpec
    from runtime.subnets import SubnetPool

    own = free_region(any_engine, 24)
    spec = NetworkSpec(
        name=f"{project}_own", ipam=IpamSpec(config=({"subnet": own},)), labels=L.network_labels(project, "own")
    )
    any_engine.create_network_in_pool(spec, SubnetPool.parse(["172.31.255.0/24"]))
    assert any_engine.api.inspect_network(spec.name)["IPAM"]["Config"][0]["Subnet"] == own


def test_it_reads_logs_tail_and_follow(any_engine, project):
    text = f"""
services:
  talk:
    image: {BUSYBOX}
    command: ["sh", "-c", "for i in 1 2 3 4 5; do echo line $$i; done; sleep 1; echo oops >&2; sleep 3600"]
"""
    _install(any_engine, text, project)
    name = f"{project}-talk-1"
    deadline = time.monotonic() + 20
    while "oops" not in list(any_engine.logs(name)):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert list(any_engine.logs(name)) == ["line 1", "line 2", "line 3", "line 4", "line 5", "oops"]
    assert list(any_engine.logs(name, tail=2)) == ["line 5", "oops"]
    follow = any_engine.logs(name, follow=True, tail=1)
    assert next(follow) == "oops"
    follow.close()  # a follower must be closable while the container keeps running


def test_it_samples_stats(any_engine, project):
    text = f"""
services:
  busy:
    image: {BUSYBOX}
    deploy: {{resources: {{limits: {{memory: 64M}}}}}}
"""
    _install(any_engine, text, project)
    stats = any_engine.stats(f"{project}-busy-1")
    assert stats.memory_usage > 0
    assert stats.memory_limit == 64 << 20
    assert stats.cpu_percent >= 0.0


def test_it_streams_container_events(any_engine, project):
    since = datetime.now(UTC) - timedelta(seconds=1)
    text = f"services:\n  ev:\n    image: {BUSYBOX}\n"
    _install(any_engine, text, project)
    any_engine.stop(f"{project}-ev-1", timeout=1)
    time.sleep(1)  # event timestamps have second granularity on the filter
    stream = any_engine.events(labels={L.APP: project}, since=since, until=datetime.now(UTC) + timedelta(seconds=1))
    events = list(stream)
    actions = [e.action for e in events]
    for action in ("create", "start", "die"):
        assert action in actions, actions
    start = next(e for e in events if e.action == "start")
    assert start.labels[L.APP] == project and start.name == f"{project}-ev-1"
    assert isinstance(start.time, datetime) and start.container_id


def _health_after_checks(engine: runtime.Engine, ref: str, wanted: str, timeout: float = 30) -> str:
    """Ask for a check every half second (as the install pipeline does) until the health is `wanted`."""
    deadline = time.monotonic() + timeout
    while (health := engine.inspect(ref).health) != wanted and time.monotonic() < deadline:
        engine.run_healthcheck(ref)
        time.sleep(0.5)
    return health


def test_health_checks_run_on_both_engines(any_engine, project):
    # Podman schedules checks with systemd timers (there is no systemd here): without run_healthcheck its
    # containers would stay "starting" forever. Docker runs them itself; run_healthcheck is a no-op there.
    text = f"""
services:
  ok:
    image: {BUSYBOX}
    healthcheck: {{test: ["CMD", "true"], interval: 1s, retries: 2}}
  bad:
    image: {BUSYBOX}
    healthcheck: {{test: ["CMD", "false"], interval: 1s, retries: 2}}
"""
    _install(any_engine, text, project)
    assert _health_after_checks(any_engine, f"{project}-ok-1", "healthy") == "healthy"
    assert _health_after_checks(any_engine, f"{project}-bad-1", "unhealthy") == "unhealthy"

    any_engine.stop(f"{project}-ok-1", timeout=1)
    if any_engine.version().engine == "podman":
        with pytest.raises(runtime.Conflict):  # a stopped container cannot be checked
            any_engine.run_healthcheck(f"{project}-ok-1")
    else:
        any_engine.run_healthcheck(f"{project}-ok-1")


def test_it_execs_with_a_stream(any_engine, project):
    _install(any_engine, f"services:\n  sh:\n    image: {BUSYBOX}\n", project)
    session = any_engine.exec(f"{project}-sh-1", ["sh", "-c", "read x; echo got:$x; echo err >&2"], tty=False)
    session.send(b"hello\n")
    output = session.read_all()
    session.close()
    assert b"got:hello" in output and b"err" in output
    deadline = time.monotonic() + 10
    while session.exit_code() is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert session.exit_code() == 0


def test_it_copies_inline_configs_into_the_container(any_engine, project):
    text = f"""
services:
  cfg:
    image: {BUSYBOX}
    configs: [{{source: greeting, target: /etc/app/greeting.txt}}]
configs:
  greeting: {{content: "hi from compose"}}
"""
    _install(any_engine, text, project)
    session = any_engine.exec(f"{project}-cfg-1", ["cat", "/etc/app/greeting.txt"], tty=False)
    assert session.read_all() == b"hi from compose"


def test_it_maps_unknown_image_to_image_not_found(any_engine):
    with pytest.raises(runtime.ImageNotFound) as exc:
        any_engine.pull("127.0.0.1:5000/casa/does-not-exist:1")
    assert exc.value.permanent


def test_a_missing_init_binary_is_not_reported_as_a_missing_image():
    from runtime.docker import _map

    response = requests.Response()
    response.status_code = 500
    message = "container create: container-init binary not found on the host: stat /usr/libexec/podman/catatonit"
    error = _map(docker.errors.APIError("500", response, explanation=message), image=HTTPD)
    assert type(error) is runtime.EngineError and "container-init binary" in str(error)
    missing = _map(docker.errors.APIError("404", response, explanation="no such image: casa/httpd:1"), image=HTTPD)
    assert isinstance(missing, runtime.ImageNotFound)


def test_it_maps_a_taken_port_to_port_in_use(any_engine, project):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        text = f"services:\n  web:\n    image: {HTTPD}\n    ports: ['127.0.0.1:{port}:8080']\n"
        with pytest.raises(runtime.PortInUse):
            _install(any_engine, text, project)


def test_it_maps_missing_objects_and_name_clashes(any_engine, project):
    with pytest.raises(runtime.NotFound):
        any_engine.inspect(f"{project}-nothing-1")
    proj = _install(any_engine, f"services:\n  a:\n    image: {BUSYBOX}\n", project)
    with pytest.raises(runtime.Conflict):
        any_engine.create(proj.containers[0])
    with pytest.raises(runtime.Conflict):
        any_engine.create_network(proj.networks[0])


def test_it_renames_a_container_keeping_its_id_and_labels(any_engine, project):
    spec, other = _install(
        any_engine, f"services:\n  a:\n    image: {BUSYBOX}\n  b:\n    image: {BUSYBOX}\n", project
    ).containers
    before = any_engine.inspect(spec.name)

    any_engine.rename(spec.name, f"{spec.name}-aside")
    any_engine.rename(f"{spec.name}-aside", f"{spec.name}-aside")  # its own name again: nothing to do

    moved = any_engine.inspect(f"{spec.name}-aside")
    assert (moved.id, moved.labels, moved.running) == (before.id, before.labels, True)
    with pytest.raises(runtime.NotFound):
        any_engine.inspect(spec.name)
    with pytest.raises(runtime.Conflict):
        any_engine.rename(moved.id, other.name)
    with pytest.raises(runtime.NotFound):
        any_engine.rename(spec.name, f"{spec.name}-again")


def test_it_maps_a_dead_socket_to_engine_unavailable(tmp_path):
    engine = runtime.get_engine(f"unix://{tmp_path}/nothing.sock")
    with pytest.raises(runtime.EngineUnavailable) as exc:
        engine.version()
    assert not exc.value.permanent
    # A message for people: the operating system's reason, not the SDK's nested exception tuples.
    assert exc.value.message == "the engine does not answer (No such file or directory)"


def test_it_streams_events_of_containers_that_carry_a_label_whatever_its_value(any_engine, project):
    # Podman 4's event filter matches nothing for a bare label key: the listener of app events heard nothing there.
    since = datetime.now(UTC) - timedelta(seconds=1)
    _install(any_engine, f"services:\n  ev:\n    image: {BUSYBOX}\n", project)
    any_engine.stop(f"{project}-ev-1", timeout=1)
    time.sleep(1)
    until = datetime.now(UTC) + timedelta(seconds=1)
    events = list(any_engine.events(labels={L.APP: None}, since=since, until=until))
    mine = [e.action for e in events if e.labels.get(L.APP) == project]
    assert "start" in mine and "die" in mine
    assert all(L.APP in e.labels for e in events)


def test_it_reports_the_hosts_memory_and_cpus(any_engine):
    import os

    import psutil

    host = any_engine.host_resources()
    assert host.memory == psutil.virtual_memory().total and host.cpus == os.cpu_count()
    assert host.swap == psutil.swap_memory().total


def test_halt_stops_a_container_its_restart_policy_keeps_bringing_back(any_engine, project):
    text = f"""
services:
  crash:
    image: {BUSYBOX}
    restart: always
    command: ["sh", "-c", "echo boom; exit 3"]
"""
    _install(any_engine, text, project)
    ref = f"{project}-crash-1"
    deadline = time.monotonic() + 30
    while any_engine.container_config(ref)["RestartCount"] < 3:
        assert time.monotonic() < deadline, "the engine never restarted it"
        time.sleep(0.2)
    any_engine.halt(ref)
    count = any_engine.container_config(ref)["RestartCount"]
    time.sleep(2)
    config = any_engine.container_config(ref)
    assert config["RestartCount"] == count and not config["State"]["Running"]
    if any_engine.version().engine == "docker":
        assert config["HostConfig"]["RestartPolicy"]["Name"] == "no"
        assert any_engine.restart_policy_set(ref, "unless-stopped") is True
        assert any_engine.container_config(ref)["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    else:
        assert any_engine.restart_policy_set(ref, "no") is False  # Podman 4's API cannot change it in place
