"""Compose keys real store apps use, through the install pipeline on the real engine: pull_policy, links, cgroup."""

import urllib.request

import docker
import pytest

from apps.models import Installation
from apps.services import InstallError, app_install, app_install_run
from runtime import labels as L
from tests.apps.conftest import BUSYBOX, HTTPD, REGISTRY
from tests.apps.slow_registry import delete_from_registry, push_fresh_image

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
S = Installation.Status


def _install(admin, compose: str, name: str) -> Installation:
    inst = app_install(user=admin, compose=compose, name=name)
    app_install_run(installation_id=inst.pk)
    inst.refresh_from_db()
    return inst


def _get(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
        return resp.read().decode().strip()


@pytest.fixture
def stale_local_image(docker_engine):
    """A tag whose local copy ("hello v1") differs from what the registry serves under it ("hello fresh")."""
    ref = push_fresh_image(payload=1 << 16)
    image = f"{REGISTRY}/{ref}"
    client = docker.APIClient(base_url="unix:///var/run/docker.sock", version="auto")
    repo, tag = image.rsplit(":", 1)
    client.tag(HTTPD, repo, tag)
    yield image
    if docker_engine.image_exists(image):
        docker_engine.remove_image(image, force=True)
    delete_from_registry(ref)


def _web(image: str, policy: str) -> str:
    return f"services:\n  web:\n    image: {image}\n    pull_policy: {policy}\n    ports: ['${{WEBUI_PORT}}:8080']\n"


@pytest.mark.parametrize(("policy", "served"), [("missing", "hello v1"), ("if_not_present", "hello v1")])
def test_a_present_image_is_kept_unless_the_app_asks_to_pull_always(
    docker_engine, admin_user, app_name, stale_local_image, policy, served
):
    inst = _install(admin_user, _web(stale_local_image, policy), app_name)
    assert inst.status == S.RUNNING, inst.error
    assert _get(inst.web_port) == served


def test_pull_policy_always_pulls_a_present_image_again(docker_engine, admin_user, app_name, stale_local_image):
    inst = _install(admin_user, _web(stale_local_image, "always"), app_name)
    assert inst.status == S.RUNNING, inst.error
    assert _get(inst.web_port) == "hello fresh"


def test_pull_policy_never_refuses_an_absent_image_before_anything_exists(docker_engine, admin_user, app_name):
    absent = f"{REGISTRY}/casa/never-here:1"
    with pytest.raises(InstallError, match=r"not on this machine.*pull_policy: never"):
        app_install(user=admin_user, compose=_web(absent, "never"), name=app_name)
    assert not Installation.objects.exists()
    assert not docker_engine.image_exists(absent)


def test_pull_policy_never_uses_the_local_image(docker_engine, admin_user, app_name):
    inst = _install(admin_user, _web(HTTPD, "never"), app_name)
    assert inst.status == S.RUNNING, inst.error


def test_a_store_app_with_links_installs_and_reaches_its_sibling(app_engine, admin_user, app_name):
    compose = f"""
services:
  db:
    image: {HTTPD}
  app:
    image: {BUSYBOX}
    links: ["db:database"]
    command: ["sh", "-c", "until wget -q -O /tmp/page http://database:8080/; do sleep 0.2; done; sleep 3600"]
    healthcheck: {{test: ["CMD", "grep", "hello", "/tmp/page"], interval: 1s, retries: 30}}
"""
    inst = _install(admin_user, compose, app_name)
    assert inst.status == S.RUNNING, inst.error
    db = app_engine.container_config(f"{app_name}-db-1")
    assert "database" in db["NetworkSettings"]["Networks"][f"{app_name}_default"]["Aliases"]
    (app,) = app_engine.list({L.APP: app_name, L.SERVICE: "app"})
    assert app.labels[L.DEPENDS_ON] == "db:service_started:false"


def test_init_true_starts_under_an_init_process_on_either_engine(app_engine, admin_user, app_name):
    """Podman runs catatonit for `init: true`; the set-up installs it (Debian only recommends it with Podman)."""
    inst = _install(admin_user, f"services:\n  web:\n    image: {HTTPD}\n    init: true\n", app_name)
    assert inst.status == S.RUNNING, inst.error
    assert app_engine.container_config(f"{app_name}-web-1")["HostConfig"]["Init"] is True


def test_cgroup_private_reaches_the_engine(docker_engine, admin_user, app_name):
    inst = _install(admin_user, f"services:\n  job:\n    image: {BUSYBOX}\n    cgroup: private\n", app_name)
    assert inst.status == S.RUNNING, inst.error
    assert docker_engine.container_config(f"{app_name}-job-1")["HostConfig"]["CgroupnsMode"] == "private"


def test_cgroup_host_needs_consent(docker_engine, admin_user, app_name):
    from apps.services import ConsentRequired

    with pytest.raises(ConsentRequired, match="control groups"):
        app_install(
            user=admin_user, compose=f"services:\n  job:\n    image: {BUSYBOX}\n    cgroup: host\n", name=app_name
        )
    assert not Installation.objects.exists()
