"""Export against the real Compose CLI: `docker-compose` accepts the exported file and brings the app up (real Docker)."""

import json
import shutil
import subprocess
import time
import urllib.request

import pytest

from apps.models import AppEvent, Installation
from apps.services.control import app_control, app_operation_run
from apps.services.export import app_export
from tests.apps.conftest import HTTPD, NOTHING, install_running, labelled
from tests.conftest import missing

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
S = Installation.Status
PROJECT = "com.docker.compose.project"

# A variable of ours, a literal `$` (written `$$`), a named volume and a published port: what export must carry.
WEB = f"""
services:
  web:
    image: {HTTPD}
    ports: ["127.0.0.1:${{WEBUI_PORT}}:8080"]
    environment:
      GREETING: hi
      PORT_SEEN: "${{WEBUI_PORT}}"
      DB_PASSWORD: "s3cr3t$$x"
    volumes: [data:/data]
volumes:
  data: {{}}
"""


@pytest.fixture
def compose_cli() -> str:
    cli = shutil.which("docker-compose")
    if cli is None:
        missing("docker-compose is not installed (scripts/test-services.sh installs it)")
    return cli


def compose(cli: str, project: str, file, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [cli, "--ansi", "never", "-p", project, "-f", str(file), *args], capture_output=True, text=True, timeout=120
    )


def greeting(port: int) -> str:
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3) as resp:
                return resp.read().decode().strip()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_docker_compose_brings_the_exported_app_up(docker_engine, admin_user, app_name, compose_cli, tmp_path):
    inst = install_running(admin_user, WEB, app_name)
    # Our copy gives the port back, so the exported copy can publish the same one.
    event = app_control(user=admin_user, installation=inst, action="stop")
    app_operation_run(event_id=event.pk)
    event.refresh_from_db()
    assert event.outcome == AppEvent.Outcome.DONE, event.message

    file = tmp_path / "compose.yaml"
    file.write_text(app_export(installation=inst))
    project = f"{app_name}x"
    config = compose(compose_cli, project, file, "config")
    assert config.returncode == 0, config.stderr
    try:
        up = compose(compose_cli, project, file, "up", "-d")
        assert up.returncode == 0, up.stderr
        [container] = docker_engine.list({PROJECT: project})
        raw = json.loads(subprocess.run(["docker", "inspect", container.id], capture_output=True, check=True).stdout)
        env = dict(e.split("=", 1) for e in raw[0]["Config"]["Env"])
        assert container.state == "running" and container.image == HTTPD
        assert env["GREETING"] == "hi" and env["PORT_SEEN"] == str(inst.web_port) and env["DB_PASSWORD"] == "s3cr3t$x"
        [binding] = raw[0]["HostConfig"]["PortBindings"]["8080/tcp"]
        assert binding == {"HostIp": "127.0.0.1", "HostPort": str(inst.web_port)}
        assert greeting(inst.web_port) == "hello v1"
    finally:
        down = compose(compose_cli, project, file, "down", "-v")
    assert down.returncode == 0, down.stderr
    assert labelled(docker_engine, {PROJECT: project}) == NOTHING
