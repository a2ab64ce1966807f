"""Pull progress aggregation and the create body the engines receive."""

from __future__ import annotations

import io
import tarfile

from runtime.base import PullProgress
from runtime.compose import load_project
from runtime.payload import create_body, files_tar
from runtime.progress import PullAggregator
from runtime.specs import FileSpec


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_it_sums_layers_per_image_and_app_and_throttles():
    clock, published = FakeClock(), []
    agg = PullAggregator(["a", "b"], published.append, min_interval=0.25, clock=clock)
    agg(PullProgress("a", "l1", "Downloading", 10, 100))
    clock.now = 0.1
    agg(PullProgress("a", "l2", "Downloading", 5, 50))
    agg(PullProgress("b", "l3", "Downloading", 1, 10))
    assert len(published) == 1  # the two events within 0.25 s were folded in, not sent
    clock.now = 0.4
    agg(PullProgress("a", "l1", "Download complete"))
    last = published[-1]
    assert (last.current, last.total) == (100 + 5 + 1, 160)
    assert [(i.image, i.current, i.total, i.layers_done) for i in last.images] == [("a", 105, 150, 1), ("b", 1, 10, 0)]
    assert 0 < last.percent < 100 and not last.done
    agg.image_done("a")
    agg.image_done("b")
    assert published[-1].done and published[-1].percent == 100.0 and published[-1].current == 160


def test_it_falls_back_to_layer_counts_without_byte_sizes():
    published = []
    agg = PullAggregator(["p"], published.append, min_interval=0)
    agg(PullProgress("p", "l1", "Pulling fs layer"))
    agg(PullProgress("p", "l2", "Pulling fs layer"))
    agg(PullProgress("p", "l1", "Download complete"))
    assert published[-1].percent == 50.0


def test_it_builds_binds_mounts_ports_and_limits():
    project = load_project(
        """
services:
  web:
    image: nginx
    ports: ["127.0.0.1:8080:80", "53/udp"]
    volumes: ["/srv:/srv:ro", "data:/data", {type: bind, source: /x, target: /y, bind: {create_host_path: false}}]
    tmpfs: /tmp:size=1m
    restart: on-failure:2
    healthcheck: {test: [CMD, true], interval: 2s}
    deploy: {resources: {limits: {cpus: 0.5, memory: 64m}}}
volumes: {data: {}}
""",
        variables={},
        project_name="demo",
    )
    body = create_body(project.container("web"))
    hc = body["HostConfig"]
    assert hc["Binds"] == ["/srv:/srv:ro"]
    assert hc["Mounts"] == [
        {"Type": "volume", "Target": "/data", "ReadOnly": False, "Source": "demo_data"},
        {"Type": "bind", "Target": "/y", "ReadOnly": False, "Source": "/x"},
    ]
    assert hc["Tmpfs"] == {"/tmp": "size=1048576"}
    assert hc["PortBindings"] == {
        "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
        "53/udp": [{"HostIp": "", "HostPort": ""}],
    }
    assert set(body["ExposedPorts"]) == {"80/tcp", "53/udp"}
    assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert (hc["NanoCpus"], hc["Memory"]) == (500_000_000, 64 << 20)
    assert hc["NetworkMode"] == "demo_default"
    assert body["NetworkingConfig"]["EndpointsConfig"]["demo_default"]["Aliases"] == ["web"]
    assert body["Healthcheck"] == {"Test": ["CMD", "true"], "Interval": 2_000_000_000}


def test_it_packs_config_files_without_touching_directories():
    data = files_tar((FileSpec(target="/etc/app/a.conf", content=b"x", mode=0o400),))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert [(m.name, m.mode, m.isdir()) for m in tar.getmembers()] == [("etc/app/a.conf", 0o400, False)]
