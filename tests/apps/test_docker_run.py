"""`docker run` commands become compose documents that our own compose translator accepts."""

from pathlib import Path

import pytest
import yaml

from apps.docker_run import DockerRunError, compose_from_run, service_from_run
from runtime.compose import load_project

VARIABLES = {"AppID": "x", "PUID": "1000", "PGID": "1000", "TZ": "UTC"}

# Real commands from the projects' own install instructions.
REAL_COMMANDS = {
    "jellyfin": """docker run -d --name jellyfin --user 1000:1000 --net=host --volume /srv/jellyfin/config:/config \\
        --volume /srv/jellyfin/cache:/cache --mount type=bind,source=/media,target=/media,readonly \\
        --restart=unless-stopped jellyfin/jellyfin""",
    "nextcloud": "docker run -d -p 8080:80 -v nextcloud:/var/www/html --name nextcloud nextcloud:29",
    "homeassistant": """docker run -d --name homeassistant --privileged --restart=unless-stopped \\
        -e TZ=Europe/Amsterdam -v /PATH_TO_YOUR_CONFIG:/config -v /run/dbus:/run/dbus:ro --network=host \\
        ghcr.io/home-assistant/home-assistant:stable""",
    "portainer": """docker run -d -p 8000:8000 -p 9443:9443 --name portainer --restart=always \\
        -v /var/run/docker.sock:/var/run/docker.sock -v portainer_data:/data portainer/portainer-ce:2.21.4""",
    "pihole": """docker run -d --name pihole -p 53:53/tcp -p 53:53/udp -p 80:80 -e TZ="America/Chicago" \\
        -e WEBPASSWORD="set a password" -v "${PWD}/etc-pihole:/etc/pihole" --dns=127.0.0.1 --dns=1.1.1.1 \\
        --restart=unless-stopped --hostname pi.hole --cap-add=NET_ADMIN pihole/pihole:latest""",
    "vaultwarden": "docker run -d --name vaultwarden -v /vw-data/:/data/ --restart unless-stopped -p 80:80 vaultwarden/server:latest",
    "uptime-kuma": "docker run -d --restart=always -p 3001:3001 -v uptime-kuma:/app/data --name uptime-kuma louislam/uptime-kuma:1",
    "syncthing": """docker run -p 8384:8384 -p 22000:22000/tcp -p 22000:22000/udp -p 21027:21027/udp \\
        -v /wherever/st-sync:/var/syncthing --hostname=my-syncthing syncthing/syncthing:latest""",
    "grafana": 'docker run -d -p 3000:3000 --name=grafana --user "$(id -u)" --volume grafana-storage:/var/lib/grafana grafana/grafana-enterprise',
    "adguard": """docker run --name adguardhome --restart unless-stopped -v /my/own/workdir:/opt/adguardhome/work \\
        -v /my/own/confdir:/opt/adguardhome/conf -p 53:53/tcp -p 53:53/udp -p 67:67/udp -p 68:68/udp \\
        -p 80:80/tcp -p 443:443/tcp -p 443:443/udp -p 3000:3000/tcp -d adguard/adguardhome""",
    "transmission": """docker run -d --name=transmission -e PUID=1000 -e PGID=1000 -e TZ=Etc/UTC \\
        -p 9091:9091 -p 51413:51413 -p 51413:51413/udp -v /path/to/data:/config \\
        --restart unless-stopped lscr.io/linuxserver/transmission:latest""",
    "plex": """docker run -d --name=plex --net=host -e PUID=1000 -e PGID=1000 -e VERSION=docker \\
        -v /path/to/library:/config -v /path/to/tvseries:/tv --device=/dev/dri:/dev/dri \\
        --restart unless-stopped lscr.io/linuxserver/plex:latest""",
    "nginx-healthcheck": """docker run -d --name web -p 8080:80 --health-cmd "wget -q -O- http://localhost/ || exit 1" \\
        --health-interval 30s --health-retries 3 --memory 256m --cpus 0.5 --ulimit nofile=1024:2048 \\
        --log-opt max-size=10m nginx:1.25 nginx -g 'daemon off;'""",
}


@pytest.mark.parametrize("name", sorted(REAL_COMMANDS))
def test_it_converts_real_commands_to_compose_our_translator_accepts(name):
    compose = compose_from_run(REAL_COMMANDS[name])
    project = load_project(compose, variables=VARIABLES, project_name=f"conv-{name}")
    assert len(project.services) == 1


def test_it_keeps_ports_env_volumes_and_restart():
    _, svc = service_from_run(REAL_COMMANDS["pihole"])
    assert svc["image"] == "pihole/pihole:latest"
    assert svc["ports"] == ["53:53/tcp", "53:53/udp", "80:80"]
    assert svc["environment"] == {"TZ": "America/Chicago", "WEBPASSWORD": "set a password"}
    assert svc["volumes"] == ["${PWD}/etc-pihole:/etc/pihole"]
    assert svc["restart"] == "unless-stopped"
    assert svc["cap_add"] == ["NET_ADMIN"]
    assert svc["dns"] == ["127.0.0.1", "1.1.1.1"]
    assert svc["hostname"] == "pi.hole"


def test_it_maps_host_network_privileged_and_mounts():
    name, svc = service_from_run(REAL_COMMANDS["jellyfin"])
    assert name == "jellyfin"
    assert svc["network_mode"] == "host"
    assert {"type": "bind", "source": "/media", "target": "/media", "read_only": True} in svc["volumes"]
    _, ha = service_from_run(REAL_COMMANDS["homeassistant"])
    assert ha["privileged"] is True


def test_it_keeps_the_command_and_healthcheck():
    _, svc = service_from_run(REAL_COMMANDS["nginx-healthcheck"])
    assert svc["command"] == ["nginx", "-g", "daemon off;"]
    assert svc["healthcheck"] == {
        "test": ["CMD-SHELL", "wget -q -O- http://localhost/ || exit 1"],
        "interval": "30s",
        "retries": 3,
    }
    assert svc["mem_limit"] == "256m"
    assert svc["ulimits"] == {"nofile": {"soft": 1024, "hard": 2048}}
    assert svc["logging"] == {"driver": "json-file", "options": {"max-size": "10m"}}


def test_it_reads_bundled_and_attached_short_options():
    _, svc = service_from_run("docker run -dit -p8080:80 -eA=1 --rm busybox:1 sh")
    assert svc == {
        "image": "busybox:1",
        "command": ["sh"],
        "ports": ["8080:80"],
        "environment": {"A": "1"},
        "stdin_open": True,
        "tty": True,
    }


def test_it_converts_several_commands_into_one_multi_service_app():
    text = "docker run -d --name db -e POSTGRES_PASSWORD=x postgres:16\ndocker run -d --name web -p 80:80 nginx:1.25"
    document = yaml.safe_load(compose_from_run(text))
    assert list(document["services"]) == ["db", "web"]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("docker run --env-file /etc/shadow busybox", "--env-file is not supported"),
        ("docker run --frobnicate busybox", "unknown option --frobnicate"),
        ("docker run -d -p", "-p needs a value"),
        ("docker run -d", "no image named"),
        ("ls -la", "must start with `docker run`"),
        ("docker run 'unterminated", "cannot be split"),
        ("docker run --privileged=maybe busybox", "takes no value"),
        ("docker run --gpus all busybox", "--gpus"),
        ("docker run --name a busybox\ndocker run --name a busybox", "two commands give the service name"),
        ("", "must start with `docker run`"),
    ],
)
def test_it_refuses_what_it_cannot_convert_by_name(command, message):
    with pytest.raises(DockerRunError, match=message.replace("(", r"\(")):
        compose_from_run(command) if "\n" in command else service_from_run(command)


def test_it_never_runs_a_shell():
    # $(...) and backticks stay text: nothing is executed while converting.
    _, svc = service_from_run('docker run -e X="$(touch /tmp/pwned-by-docker-run)" busybox')
    assert svc["environment"]["X"] == "$(touch /tmp/pwned-by-docker-run)"
    assert not Path("/tmp/pwned-by-docker-run").exists()
