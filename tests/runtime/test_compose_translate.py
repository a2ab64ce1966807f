"""Compose -> ContainerSpec/NetworkSpec/VolumeSpec: every syntax variant ends in one normalised model."""

from __future__ import annotations

import textwrap

import pytest

from runtime import labels as L
from runtime.compose import exposure, load_project
from runtime.errors import ComposeError
from runtime.specs import Dependency, DeviceRequest, DeviceSpec, HealthcheckSpec, MountSpec, PortSpec, Ulimit


def load(text: str, **kwargs):
    kwargs.setdefault("variables", {})
    kwargs.setdefault("project_name", "demo")
    return load_project(textwrap.dedent(text), **kwargs)


def web(extra: str, **kwargs):
    """Project with one service `web` whose extra keys are given as YAML (indented 4)."""
    body = textwrap.indent(textwrap.dedent(extra), "    ")
    return load(f"services:\n  web:\n    image: nginx:1.25\n{body}", **kwargs).container("web")


def test_it_names_and_labels_like_compose():
    project = load("""
        services:
          web: {image: nginx}
          db: {image: postgres, container_name: my-db}
        """)
    web_spec, db = project.container("web"), project.container("db")
    assert web_spec.name == "demo-web-1" and db.name == "my-db"
    assert web_spec.labels[L.PROJECT] == "demo" and web_spec.labels[L.SERVICE] == "web"
    assert web_spec.labels[L.CONTAINER_NUMBER] == "1" and web_spec.labels[L.ONEOFF] == "False"
    assert web_spec.labels[L.APP] == "demo" and len(web_spec.labels[L.CONFIG_HASH]) == 64
    assert [n.name for n in project.networks] == ["demo_default"]
    assert project.networks[0].labels[L.NETWORK] == "default"
    assert web_spec.networks[0].network == "demo_default" and web_spec.networks[0].aliases == ("web",)


def test_it_changes_the_config_hash_only_when_the_service_changes():
    a = web("environment: {A: '1'}").labels[L.CONFIG_HASH]
    assert a == web("environment: [A=1]").labels[L.CONFIG_HASH]
    assert a != web("environment: {A: '2'}").labels[L.CONFIG_HASH]


def test_it_parses_ports_in_every_spelling():
    spec = web("""
        ports:
          - "80"
          - 8080:80
          - 127.0.0.1:9000-9001:9000-9001/UDP
          - "[::1]:53:53/udp"
          - {target: 443, published: "8443", protocol: tcp, host_ip: 0.0.0.0, mode: host}
          - {target: 444, published: 8444}
        """)
    assert spec.ports == (
        PortSpec(target=80),
        PortSpec(target=80, published=8080),
        PortSpec(target=9000, published=9000, protocol="udp", host_ip="127.0.0.1"),
        PortSpec(target=9001, published=9001, protocol="udp", host_ip="127.0.0.1"),
        PortSpec(target=53, published=53, protocol="udp", host_ip="::1"),
        PortSpec(target=443, published=8443, host_ip="0.0.0.0"),
        PortSpec(target=444, published=8444),
    )
    with pytest.raises(ComposeError, match=r"services\.web\.ports\[0\]"):
        web("ports: ['8000-8002:80-81']")
    with pytest.raises(ComposeError, match="protocol"):
        web("ports: ['80/icmp']")


def test_it_normalises_every_mount_spelling():
    project = load("""
        services:
          web:
            image: nginx
            volumes:
              - /DATA/AppData/demo:/config:ro
              - data:/data:nocopy
              - /cache
              - {type: bind, source: /srv//media/../media, target: /media, read_only: true}
              - {type: volume, source: data, target: /more}
              - {type: tmpfs, target: /run, tmpfs: {size: 64m}}
            tmpfs: ["/tmp:size=1m,mode=1777,noexec"]
        volumes:
          data: {}
        """)
    spec = project.container("web")
    assert spec.mounts == (
        MountSpec(type="bind", source="/DATA/AppData/demo", target="/config", read_only=True),
        MountSpec(type="volume", source="demo_data", target="/data", nocopy=True),
        MountSpec(type="volume", target="/cache"),
        MountSpec(type="bind", source="/srv/media", target="/media", read_only=True),
        MountSpec(type="volume", source="demo_data", target="/more"),
        MountSpec(type="tmpfs", target="/run", tmpfs_size=64 << 20),
        MountSpec(type="tmpfs", target="/tmp", tmpfs_size=1 << 20, tmpfs_mode=0o1777, tmpfs_options=("noexec",)),
    )
    assert [v.name for v in project.volumes] == ["demo_data"]
    assert project.volumes[0].labels[L.VOLUME] == "data"


def test_it_turns_bind_like_named_volumes_into_binds():
    project = load("""
        services:
          web: {image: nginx, volumes: ["root:/host", "etc:/e"]}
        volumes:
          root: {driver: local, driver_opts: {type: none, o: bind, device: /}}
          etc: {driver_opts: {type: none, o: "rbind,ro", device: //etc/}}
        """)
    assert project.container("web").bind_sources == ("/", "/etc")
    assert project.volumes == ()  # nothing to create: they were binds all along
    assert exposure(project)[0].bind_sources == ("/", "/etc")


def test_it_refuses_relative_and_home_binds_without_a_project_dir():
    with pytest.raises(ComposeError, match=r"services\.web\.volumes\[0\]"):
        web("volumes: ['./data:/data']")
    with pytest.raises(ComposeError, match="home-relative"):
        web("volumes: ['~/data:/data']")
    spec = web("volumes: ['./data/../x:/data']", project_dir="/DATA/AppData/demo")
    assert spec.bind_sources == ("/DATA/AppData/demo/x",)
    with pytest.raises(ComposeError, match="undefined volume"):
        web("volumes: ['nope:/data']")


def test_it_reads_environment_command_and_entrypoint_in_both_forms():
    spec = web(
        """
        environment: [A=1, B, C=]
        command: sh -c 'echo "a b"'
        entrypoint: ["/init", --flag]
        """,
        variables={"B": "from-vars"},
    )
    assert spec.env == {"A": "1", "B": "from-vars", "C": ""}
    assert spec.command == ("sh", "-c", 'echo "a b"') and spec.entrypoint == ("/init", "--flag")
    spec = web("environment: {A: 1, B: true, C: null, D: no}")
    assert spec.env == {"A": "1", "B": "true", "D": "no"}


def test_it_orders_services_by_dependencies_and_rejects_cycles():
    project = load("""
        services:
          app: {image: a, depends_on: {db: {condition: service_healthy}, cache: {condition: service_started}}}
          side: {image: s, network_mode: "service:app"}
          db: {image: d, depends_on: [init]}
          init: {image: i}
          cache: {image: c}
          job: {image: j, depends_on: {init: {condition: service_completed_successfully, restart: true}}}
        """)
    order = project.services
    assert order.index("init") < order.index("db") < order.index("app") < order.index("side")
    assert order.index("cache") < order.index("app") and order.index("init") < order.index("job")
    assert project.container("app").depends_on == (
        Dependency("db", "service_healthy"),
        Dependency("cache", "service_started"),
    )
    assert project.container("side").network_mode == "container:demo-app-1"
    assert project.container("side").networks == ()
    assert project.container("job").depends_on[0].restart is True
    with pytest.raises(ComposeError, match="cycle: a -> b -> a"):
        load("services:\n  a: {image: x, depends_on: [b]}\n  b: {image: y, depends_on: [a]}\n")
    with pytest.raises(ComposeError, match="undefined"):
        load("services:\n  a: {image: x, depends_on: [ghost]}\n")
    with pytest.raises(ComposeError, match="condition"):
        load("services:\n  a: {image: x, depends_on: {b: {condition: soon}}}\n  b: {image: y}\n")


def test_it_reads_healthchecks_in_both_forms():
    assert web(
        "healthcheck: {test: curl -f localhost, interval: 1m30s, timeout: 500ms, retries: 3, "
        "start_period: 1h2m, start_interval: 2s}"
    ).healthcheck == HealthcheckSpec(
        test=("CMD-SHELL", "curl -f localhost"),
        interval=90.0,
        timeout=0.5,
        retries=3,
        start_period=3720.0,
        start_interval=2.0,
    )
    assert web("healthcheck: {test: [CMD, curl, -f, localhost]}").healthcheck.test == ("CMD", "curl", "-f", "localhost")
    assert web("healthcheck: {disable: true}").healthcheck.test == ("NONE",)
    with pytest.raises(ComposeError, match="duration"):
        web("healthcheck: {test: [NONE], interval: soon}")
    with pytest.raises(ComposeError, match="CMD"):
        web("healthcheck: {test: [curl, x]}")


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("host", "host"),
        ("none", "none"),
        ("bridge", "bridge"),
        ("default", "bridge"),
        ("container:abc", "container:abc"),
    ],
)
def test_it_keeps_network_modes(mode, expected):
    spec = web(f"network_mode: '{mode}'")
    assert spec.network_mode == expected and spec.networks == ()


def test_it_attaches_declared_networks_with_aliases_and_addresses():
    project = load("""
        services:
          web:
            image: nginx
            networks:
              front: {aliases: [www], ipv4_address: 172.31.255.3}
              back:
        networks:
          front: {driver: bridge, ipam: {driver: default, config: [{subnet: 172.31.255.0/29}]}}
          back: {internal: true, name: shared-back}
          unused: {}
          outside: {external: true}
        """)
    spec = project.container("web")
    assert [(a.network, a.aliases, a.ipv4_address) for a in spec.networks] == [
        ("demo_front", ("web", "www"), "172.31.255.3"),
        ("shared-back", ("web",), ""),
    ]
    assert [n.name for n in project.networks] == ["demo_front", "shared-back"]
    assert project.networks[0].ipam.config == ({"subnet": "172.31.255.0/29"},)
    assert project.networks[1].internal
    with pytest.raises(ComposeError, match="undefined network"):
        web("networks: [ghost]")
    with pytest.raises(ComposeError, match="cannot be combined"):
        load("services:\n  a: {image: x, network_mode: host, networks: [default]}\n")


def test_it_translates_privileges_limits_and_process_settings():
    spec = web("""
        user: "1000:1000"
        working_dir: /app
        hostname: box
        cap_add: [sys_admin, CAP_NET_ADMIN]
        cap_drop: [ALL]
        devices: [/dev/dri, "/dev/ttyUSB0:/dev/ttyACM0:rw", {source: /dev/kvm, target: /dev/kvm}]
        privileged: true
        pid: host
        ipc: host
        security_opt: [apparmor:unconfined]
        sysctls: [net.ipv4.ip_forward=1]
        ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 512}
        shm_size: 1gb
        extra_hosts: ["host.docker.internal:host-gateway", "db=10.0.0.2"]
        dns: 1.1.1.1
        stop_signal: SIGINT
        stop_grace_period: 1m
        init: true
        tty: true
        stdin_open: true
        read_only: true
        restart: on-failure:3
        mem_limit: 512m
        cpus: 1.5
        cpu_shares: 90
        runtime: nvidia
        logging: {driver: json-file, options: {max-size: 10m, max-file: 3}}
        labels: [com.example.a=b]
        """)
    assert (spec.user, spec.working_dir, spec.hostname) == ("1000:1000", "/app", "box")
    assert spec.cap_add == ("SYS_ADMIN", "NET_ADMIN") and spec.cap_drop == ("ALL",)
    assert spec.devices == (
        DeviceSpec("/dev/dri", "/dev/dri"),
        DeviceSpec("/dev/ttyUSB0", "/dev/ttyACM0", "rw"),
        DeviceSpec("/dev/kvm", "/dev/kvm"),
    )
    assert spec.privileged and spec.pid == "host" and spec.ipc == "host"
    assert spec.sysctls == {"net.ipv4.ip_forward": "1"}
    assert spec.ulimits == (Ulimit("nofile", 1024, 2048), Ulimit("nproc", 512, 512))
    assert spec.shm_size == 1 << 30 and spec.dns == ("1.1.1.1",)
    assert spec.extra_hosts == ("host.docker.internal:host-gateway", "db:10.0.0.2")
    assert (spec.stop_signal, spec.stop_grace_period, spec.init) == ("SIGINT", 60.0, True)
    assert spec.tty and spec.stdin_open and spec.read_only and spec.restart == "on-failure:3"
    assert (spec.mem_limit, spec.cpus, spec.cpu_shares, spec.runtime) == (512 << 20, 1.5, 90, "nvidia")
    assert spec.logging.options == {"max-size": "10m", "max-file": "3"}
    assert spec.labels["com.example.a"] == "b"


def test_it_reads_deploy_resources_over_legacy_keys():
    spec = web("""
        mem_limit: 1g
        deploy:
          resources:
            limits: {cpus: "0.5", memory: 256M, pids: 100}
            reservations:
              memory: 1.5G
              cpus: 0.25
              devices: [{driver: nvidia, count: all, capabilities: [gpu]}]
          restart_policy: {condition: on-failure, max_attempts: 2}
        """)
    assert (spec.cpus, spec.mem_limit, spec.pids_limit) == (0.5, 256 << 20, 100)
    assert spec.mem_reservation == int(1.5 * (1 << 30)) and spec.cpus_reservation == 0.25
    assert spec.device_requests == (DeviceRequest(driver="nvidia", count=-1, capabilities=("gpu",)),)
    assert spec.restart == "on-failure:2"
    with pytest.raises(ComposeError, match=r"services\.web\.deploy\.placement"):
        web("deploy: {placement: {constraints: []}}")


@pytest.mark.parametrize(
    "key",
    [
        "build: .",
        "extends: {service: x}",
        "volumes_from: [db]",
        "external_links: [db]",
        "env_file: .env",
        "scale: 2",
    ],
)
def test_it_rejects_unsupported_keys_by_path(key):
    name = key.split(":")[0]
    with pytest.raises(ComposeError, match=rf"services\.web\.{name}: is not supported"):
        web(key)


def test_it_rejects_unsupported_nested_and_top_level_keys():
    with pytest.raises(ComposeError, match=r"services\.web\.ports\[0\]\.bogus"):
        web("ports: [{target: 80, bogus: 1}]")
    with pytest.raises(ComposeError, match=r"services\.web\.volumes\[0\]\.type"):
        web("volumes: [{type: npipe, source: x, target: /x}]")
    with pytest.raises(ComposeError, match=r"^include: is not supported"):
        load("include: [other.yml]\nservices:\n  a: {image: x}\n")
    with pytest.raises(ComposeError, match=r"configs\.c\.file"):
        load("services:\n  a: {image: x}\nconfigs:\n  c: {file: /etc/shadow}\n")


def test_it_passes_x_extensions_through():
    project = load("""
        services:
          web:
            image: nginx
            x-casaos: {envs: [{container: TZ}]}
        x-casaos: {main: web, port_map: "8080"}
        x-other: 1
        """)
    assert project.extensions == {"x-casaos": {"main": "web", "port_map": "8080"}, "x-other": 1}
    assert project.container("web").extensions == {"x-casaos": {"envs": [{"container": "TZ"}]}}


def test_it_validates_names_and_reserved_labels():
    with pytest.raises(ComposeError, match="invalid project name"):
        load("services:\n  a: {image: x}\n", project_name="My.App")
    with pytest.raises(ComposeError, match="invalid service name"):
        load("services:\n  'bad name': {image: x}\n")
    with pytest.raises(ComposeError, match="invalid container name"):
        web("container_name: ../evil")
    with pytest.raises(ComposeError, match="reserved"):  # the name a change sets another app's old container aside as
        web("container_name: other-web-casaos-old")
    with pytest.raises(ComposeError, match="reserved label"):
        web("labels: {io.casaos.app: other-app}")
    with pytest.raises(ComposeError, match="image is required"):
        load("services:\n  a: {command: x}\n")
    assert L.normalize_project_name("My.App") == "myapp"


def test_it_honours_profiles_and_inline_configs():
    text = """
        services:
          web: {image: nginx, configs: [site, {source: secret, target: /etc/app.conf, mode: "0400"}]}
          extra: {image: x, profiles: [full]}
        configs:
          site: {content: "hello $$USER $AppID"}
          secret: {environment: TOKEN}
        """
    project = load(text, variables={"AppID": "demo", "TOKEN": "t0k"})
    assert project.services == ("web",) and project.disabled_services == ("extra",)
    files = project.container("web").files
    assert [(f.target, f.content, f.mode) for f in files] == [
        ("/site", b"hello $USER demo", 0o444),
        ("/etc/app.conf", b"t0k", 0o400),
    ]
    assert load(text, variables={}, profiles=["full"]).services == ("web", "extra")


def test_compose_secrets_are_files_marked_secret_and_keep_the_config_hash():
    as_secret = """
        services:
          web: {image: nginx, secrets: [token]}
        secrets:
          token: {content: t0k}
        """
    (file,) = load(as_secret, variables={}).container("web").files
    assert (file.target, file.content, file.secret) == ("/run/secrets/token", b"t0k", True)
    as_config = as_secret.replace("secrets: [token]", "configs: [{source: token, target: /run/secrets/token}]")
    as_config = as_config.replace("        secrets:\n", "        configs:\n")
    (same,) = load(as_config, variables={}).container("web").files
    assert not same.secret
    # Where a swarm keeps the file is no change of what runs on one box: installed apps keep their containers.
    hashes = [load(t, variables={}).container("web").labels[L.CONFIG_HASH] for t in (as_secret, as_config)]
    assert hashes[0] == hashes[1]


def test_it_exposes_everything_a_policy_needs():
    project = load("""
        services:
          root:
            image: evil@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
            privileged: true
            network_mode: host
            pid: host
            volumes: [/var/run/docker.sock:/var/run/docker.sock, {type: bind, source: /etc, target: /e}]
            devices: [/dev/sda]
            cap_add: [SYS_ADMIN]
        """)
    (view,) = exposure(project)
    assert view.privileged and view.network_mode == "host" and view.pid == "host"
    assert view.bind_sources == ("/var/run/docker.sock", "/etc") and view.mounts_docker_socket
    assert view.devices[0].host_path == "/dev/sda" and view.cap_add == ("SYS_ADMIN",)
    assert view.image.startswith("evil@sha256:") and project.images == (view.image,)


def test_it_turns_links_into_aliases_of_the_linked_service_and_a_start_dependency():
    project = load("""
        services:
          web: {image: nginx, links: [db, "cache:redis", "db:database"], depends_on: {db: {condition: service_healthy}}}
          db: {image: postgres}
          cache: {image: redis}
        """)
    assert project.services == ("db", "cache", "web")
    assert project.container("db").networks[0].aliases == ("db", "database")
    assert project.container("cache").networks[0].aliases == ("cache", "redis")
    web_spec = project.container("web")
    assert web_spec.networks[0].aliases == ("web",)
    assert web_spec.depends_on == (
        Dependency("db", "service_healthy"),  # the explicit condition stays
        Dependency("cache", "service_started"),
    )


@pytest.mark.parametrize(
    ("links", "error"),
    [
        ("[ghost]", r"services\.web\.links\[0\]: refers to undefined service 'ghost'"),
        ("['db:bad name']", r"services\.web\.links\[0\]: invalid alias 'bad name'"),
        ("{db: x}", r"services\.web\.links: must be a list"),
    ],
)
def test_it_refuses_links_it_cannot_honour(links, error):
    with pytest.raises(ComposeError, match=error):
        load(f"services:\n  web: {{image: nginx, links: {links}}}\n  db: {{image: postgres}}\n")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("always", "always"),
        ("missing", "missing"),
        ("if_not_present", "missing"),
        ("never", "never"),
        (None, "missing"),
    ],
)
def test_it_reads_pull_policy(value, expected):
    spec = web(f"pull_policy: {value}" if value else "")
    assert spec.pull_policy == expected


def test_pull_policy_is_not_part_of_the_container_config_hash():
    # How an image is fetched does not change what runs (Compose's own hash leaves it out too).
    assert web("pull_policy: always").labels[L.CONFIG_HASH] == web("").labels[L.CONFIG_HASH]


def test_it_refuses_building_images_in_words():
    with pytest.raises(ComposeError, match=r"services\.web\.pull_policy: .*building images is not supported"):
        web("pull_policy: build")
    with pytest.raises(ComposeError, match=r"services\.web\.build: .*building images is not supported"):
        web("build: .")
    with pytest.raises(ComposeError, match=r"services\.web\.pull_policy: unsupported value 'daily'"):
        web("pull_policy: daily")


def test_it_reads_the_cgroup_namespace():
    assert web("cgroup: private").cgroup == "private"
    assert web("cgroup: host").cgroup == "host"
    assert web("").cgroup == ""
    with pytest.raises(ComposeError, match=r"services\.web\.cgroup: unsupported value 'shared'"):
        web("cgroup: shared")
    (view,) = exposure(load("services:\n  web: {image: nginx, cgroup: host}\n"))
    assert view.cgroup == "host"


def test_an_unset_cgroup_keeps_the_config_hash_of_apps_installed_before_it_existed():
    import hashlib
    import json
    from dataclasses import asdict, replace

    spec = web("")
    labels = {k: v for k, v in spec.labels.items() if k != L.CONFIG_HASH}
    old = {k: v for k, v in asdict(replace(spec, labels=labels)).items() if k not in ("cgroup", "pull_policy")}
    payload = json.dumps(old, sort_keys=True, default=str)
    assert spec.labels[L.CONFIG_HASH] == hashlib.sha256(payload.encode()).hexdigest()
