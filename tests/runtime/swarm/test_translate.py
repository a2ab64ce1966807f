"""ContainerSpec -> Swarm ServiceSpec: what is carried over, and what is refused with its key (no engine needed)."""

from __future__ import annotations

import base64

import pytest

from runtime import labels as L
from runtime.errors import InvalidSpec
from runtime.specs import (
    ContainerSpec,
    DeviceSpec,
    FileSpec,
    HealthcheckSpec,
    MountSpec,
    NetworkAttachment,
    PortSpec,
    Ulimit,
    VolumeSpec,
)
from runtime.swarm import Placement
from runtime.swarm.translate import config_body, config_name, refusals, restart_policy, service_spec

LABELS = L.container_labels("app", "web")


def _spec(**kw) -> ContainerSpec:
    return ContainerSpec(name="app-web-1", image="127.0.0.1:5000/casa/httpd:1", service="web", labels=LABELS, **kw)


@pytest.mark.parametrize(
    ("key", "kw"),
    [
        ("privileged", {"privileged": True}),
        ("devices", {"devices": (DeviceSpec("/dev/snd", "/dev/snd"),)}),
        ("pid", {"pid": "host"}),
        ("ipc", {"ipc": "host"}),
        ("network_mode", {"network_mode": "container:other"}),
        ("security_opt", {"security_opt": ("apparmor=unconfined",)}),
        ("shm_size", {"shm_size": 1 << 20}),
        ("networks.ipv4_address", {"networks": (NetworkAttachment("app_default", ipv4_address="10.9.0.5"),)}),
        ("ports (host address)", {"ports": (PortSpec(80, 8080, host_ip="127.0.0.1"),)}),
        ("tmpfs options", {"mounts": (MountSpec("tmpfs", "/run", tmpfs_options=("noexec",)),)}),
    ],
)
def test_it_refuses_what_a_service_cannot_have_naming_the_key(key, kw):
    with pytest.raises(InvalidSpec) as caught:
        service_spec(_spec(**kw), constraints=[])
    assert caught.value.params["key"] == key
    assert key in caught.value.message and "web" in caught.value.message
    assert caught.value.template  # our words, translatable


@pytest.mark.parametrize("mode", ["bridge", "default"])
def test_the_engines_default_network_is_a_service_on_no_network(mode):
    """Most store apps say `network_mode: bridge`: a service attached to no network runs on its node's bridge."""
    assert list(refusals(_spec(network_mode=mode))) == []
    assert service_spec(_spec(network_mode=mode), constraints=[])["TaskTemplate"]["Networks"] == []


def test_it_refuses_nothing_for_a_plain_app():
    assert list(refusals(_spec(ports=(PortSpec(8080, 18080),), network_mode="host"))) == []


def test_it_carries_process_labels_and_limits():
    spec = _spec(
        command=("httpd", "-f"),
        entrypoint=("/bin/sh", "-c"),
        env={"A": "1"},
        user="1000:1000",
        working_dir="/www",
        hostname="web",
        cap_add=("NET_ADMIN",),
        cap_drop=("ALL",),
        sysctls={"net.core.somaxconn": "1024"},
        init=True,
        read_only=True,
        extra_hosts=("db:10.0.0.2",),
        ulimits=(Ulimit("nofile", 1024, 2048),),
        stop_grace_period=15,
        cpus=1.5,
        mem_limit=256 << 20,
        mem_reservation=64 << 20,
        cpus_reservation=0.5,
        healthcheck=HealthcheckSpec(test=("CMD", "true"), interval=5, retries=3),
    )
    body = service_spec(spec, constraints=["node.id==n2"], pids_limit=4096)
    task = body["TaskTemplate"]
    container = task["ContainerSpec"]
    assert body["Name"] == "app-web-1" and body["Labels"] == LABELS
    assert container["Labels"] == LABELS  # the task's container is found by our labels too
    assert container["Command"] == ["/bin/sh", "-c"] and container["Args"] == ["httpd", "-f"]
    assert container["Env"] == ["A=1"] and container["User"] == "1000:1000" and container["Dir"] == "/www"
    assert container["CapabilityAdd"] == ["NET_ADMIN"] and container["CapabilityDrop"] == ["ALL"]
    assert container["Sysctls"] == {"net.core.somaxconn": "1024"} and container["Init"] is True
    assert container["ReadOnly"] is True and container["Hosts"] == ["10.0.0.2 db"]
    assert container["Ulimits"] == [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]
    assert container["StopGracePeriod"] == 15 * 10**9
    assert container["HealthCheck"] == {"Test": ["CMD", "true"], "Interval": 5 * 10**9, "Retries": 3}
    assert task["Resources"] == {
        "Limits": {"NanoCPUs": 1_500_000_000, "MemoryBytes": 256 << 20, "Pids": 4096},
        "Reservations": {"NanoCPUs": 500_000_000, "MemoryBytes": 64 << 20},
    }
    assert task["Placement"] == {"Constraints": ["node.id==n2"]}
    assert body["Mode"] == {"Replicated": {"Replicas": 0}}  # created, not started


def test_it_keeps_the_image_command_when_only_an_entrypoint_is_unset():
    container = service_spec(_spec(command=("echo", "hi")), constraints=[])["TaskTemplate"]["ContainerSpec"]
    assert container["Args"] == ["echo", "hi"] and "Command" not in container


def test_it_publishes_ports_on_the_node_in_host_mode_without_a_virtual_ip():
    body = service_spec(_spec(ports=(PortSpec(8080, 18080), PortSpec(53, None, "udp"))), constraints=[])
    assert body["EndpointSpec"] == {
        "Mode": "dnsrr",
        "Ports": [
            {"Protocol": "tcp", "TargetPort": 8080, "PublishMode": "host", "PublishedPort": 18080},
            {"Protocol": "udp", "TargetPort": 53, "PublishMode": "host"},
        ],
    }


def test_it_attaches_networks_with_the_service_aliases():
    spec = _spec(networks=(NetworkAttachment("app_default", aliases=("web", "www")),))
    assert service_spec(spec, constraints=[])["TaskTemplate"]["Networks"] == [
        {"Target": "app_default", "Aliases": ["web", "www"]}
    ]


def test_it_gives_named_volumes_their_labels_through_the_mount():
    labels = L.volume_labels("app", "data")
    spec = _spec(
        mounts=(
            MountSpec("volume", "/data", source="app_data", nocopy=True),
            MountSpec("bind", "/conf", source="/srv/app/conf", read_only=True, propagation="rslave"),
            MountSpec("tmpfs", "/tmp", tmpfs_size=1 << 20, tmpfs_mode=0o1777),
        )
    )
    volumes = {"app_data": VolumeSpec("app_data", key="data", labels=labels)}
    mounts = service_spec(spec, constraints=[], volumes=volumes)["TaskTemplate"]["ContainerSpec"]["Mounts"]
    assert mounts == [
        {
            "Type": "volume",
            "Target": "/data",
            "ReadOnly": False,
            "Source": "app_data",
            "VolumeOptions": {"NoCopy": True, "Labels": labels, "DriverConfig": {"Name": "local", "Options": {}}},
        },
        {
            "Type": "bind",
            "Target": "/conf",
            "ReadOnly": True,
            "Source": "/srv/app/conf",
            "BindOptions": {"Propagation": "rslave"},
        },
        {"Type": "tmpfs", "Target": "/tmp", "ReadOnly": False, "TmpfsOptions": {"SizeBytes": 1 << 20, "Mode": 0o1777}},
    ]


def test_it_mounts_config_files_as_swarm_configs():
    file = FileSpec(target="/etc/app/conf.ini", content=b"a=1\n", mode=0o440, uid=1000, gid=100)
    name = config_name("app-web-1", 0, file)
    body = service_spec(_spec(files=(file,)), constraints=[], configs={name: "cfgid"})
    assert body["TaskTemplate"]["ContainerSpec"]["Configs"] == [
        {
            "File": {"Name": "/etc/app/conf.ini", "UID": "1000", "GID": "100", "Mode": 0o440},
            "ConfigID": "cfgid",
            "ConfigName": name,
        }
    ]
    made = config_body(name, file, LABELS, "app-web-1")
    assert base64.b64decode(made["Data"]) == b"a=1\n"
    assert made["Labels"][L.APP] == "app"
    assert name != config_name("app-web-1", 0, FileSpec(target="/etc/app/conf.ini", content=b"a=2\n"))


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("no", {"Condition": "none"}),
        ("always", {"Condition": "any"}),
        ("unless-stopped", {"Condition": "any"}),
        ("on-failure", {"Condition": "on-failure"}),
        ("on-failure:3", {"Condition": "on-failure", "MaxAttempts": 3}),
    ],
)
def test_it_maps_restart_policies(policy, expected):
    assert {k: v for k, v in restart_policy(policy).items() if k != "Delay"} == expected


def test_placement_constraints():
    assert Placement().constraints() == [] and Placement().anywhere
    assert Placement(node="abc", labels=(("disk", "ssd"), ("gpu", "true"))).constraints() == [
        "node.id==abc",
        "node.labels.disk==ssd",
        "node.labels.gpu==true",
    ]
