"""A store's apps over the bounds of one app (too many services, image references outside the grammar) are
problems of the sync, never installable apps; store apps asking more than this machine has are lowered."""

import shutil

import pytest
import yaml

from appstore.models import CatalogApp, Store
from runtime.compose.limits import MAX_SERVICES
from tests.apps.conftest import BUSYBOX
from tests.appstore.conftest import ODD_STORE, make_store, sync

pytestmark = pytest.mark.django_db


def _app(root, folder: str, services: dict) -> None:
    (root / "Apps" / folder).mkdir(parents=True)
    compose = {"name": folder.lower(), "services": services, "x-casaos": {"main": next(iter(services))}}
    (root / "Apps" / folder / "docker-compose.yml").write_text(yaml.safe_dump(compose))


def test_apps_over_the_bounds_are_problems_not_apps(tmp_path, allow_lan):
    root = tmp_path / "store"
    shutil.copytree(ODD_STORE / "Apps" / "Hello", root / "Apps" / "Hello")
    _app(root, "Crowd", {f"s{i}": {"image": "busybox"} for i in range(MAX_SERVICES + 1)})
    # Required values leave most of a template unchecked until install; the service bound holds even then.
    _app(root, "Crowdvars", {f"s{i}": {"image": "busybox", "environment": {"P": "${P:?set it}"}} for i in range(100)})
    _app(root, "Shell", {"web": {"image": "nginx; id"}})
    _app(root, "Option", {"web": {"image": "--help"}})
    _app(root, "Upper", {"web": {"image": "Library/Nginx"}})
    _app(root, "Long", {"web": {"image": "x" * 10_240}})
    store = sync(make_store(path=str(root)))
    assert store.status == Store.Status.OK
    assert list(CatalogApp.objects.filter(store=store).values_list("store_app_id", flat=True)) == ["hello"]
    reasons = {p["app"]: p["reason"] for p in store.problems}
    assert f"at most {MAX_SERVICES} services; this one has {MAX_SERVICES + 1}" in reasons["Crowd"]
    assert "at most 64 services; this one has 100" in reasons["Crowdvars"]
    assert "services.web.image: 'nginx; id' is not a valid image reference" in reasons["Shell"]
    assert "services.web.image: '--help' is not a valid image reference" in reasons["Option"]
    assert "must be lowercase" in reasons["Upper"]
    assert "longer than 255" in reasons["Long"] and len(reasons["Long"]) < 300


@pytest.mark.docker
def test_a_store_app_asking_more_than_the_machine_has_is_lowered_to_it(
    client, admin_user, tmp_path, allow_lan, docker_engine, app_name, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from accounts.models import AuditEvent
    from apps.models import Installation
    from apps.services import app_install_run
    from runtime.compose import load_yaml
    from runtime.compose.limits import PIDS_MAX

    root = tmp_path / "store"
    big = {"image": BUSYBOX, "mem_limit": "1t", "shm_size": "100g", "pids_limit": -1, "cpus": 512}
    _app(root, "Big", {"main": big})
    store = sync(make_store(path=str(root)))
    app = CatalogApp.objects.get(store=store, store_app_id="big")
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks():
        answer = client.post(
            reverse("api-catalog-install", args=[app.pk]), {"name": app_name}, content_type="application/json"
        )
    assert answer.status_code == 202, answer.content
    inst = Installation.objects.get(pk=answer.json()["id"])
    host = docker_engine.host_resources()
    stored = load_yaml(inst.compose)["services"]["main"]
    assert (stored["mem_limit"], stored["shm_size"], stored["pids_limit"], stored["cpus"]) == (
        host.memory,
        host.memory // 2,
        PIDS_MAX,
        host.cpus,
    )
    (audit,) = AuditEvent.objects.filter(action="app.install", target=app_name)
    assert "services.main.mem_limit: 1 TiB is more than this machine's memory" in audit.details["limits_lowered"]

    app_install_run(installation_id=inst.pk)
    inst.refresh_from_db()
    assert inst.status == "running", inst.error
    hc = docker_engine.container_config(f"{app_name}-main-1")["HostConfig"]
    assert (hc["Memory"], hc["ShmSize"], hc["PidsLimit"], hc["NanoCpus"]) == (
        host.memory,
        host.memory // 2,
        PIDS_MAX,
        host.cpus * 10**9,
    )
