"""App networks take a small subnet of our own pool: sixty apps installed at once all run on a stock engine
(whose default pools hold about thirty networks), and a full pool fails an install cleanly, saying why."""

import ipaddress
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from apps.models import Installation
from apps.services import app_install, app_install_run, app_uninstall, app_uninstall_run
from casaos_site.i18n import shown
from tests.apps.conftest import HTTPD, NOTHING, install_running, leftovers, wipe
from tests.runtime.conftest import free_region

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
# init: the busybox httpd runs under docker-init, so a stop ends it at once instead of after 10 s.
ONE = f"services:\n  web:\n    image: {HTTPD}\n    init: true\n    ports: ['${{WEBUI_PORT}}:8080']\n"
# Podman here has no init binary (catatonit): there, SIGKILL is what ends busybox httpd at once.
ANY_ENGINE = f"services:\n  web:\n    image: {HTTPD}\n    stop_signal: SIGKILL\n    ports: ['${{WEBUI_PORT}}:8080']\n"
POOL = ipaddress.ip_network("172.24.0.0/13")


def subnet_of(eng, app: str) -> ipaddress.IPv4Network:
    return ipaddress.ip_network(eng.api.inspect_network(f"{app}_default")["IPAM"]["Config"][0]["Subnet"])


def _in_thread(work, *args):
    try:
        return work(*args)
    finally:
        connection.close()  # each thread has its own database connection


def test_an_app_network_is_a_small_subnet_of_the_pool(app_engine, admin_user, app_name):
    inst = install_running(admin_user, ANY_ENGINE, app_name)
    subnet = subnet_of(app_engine, app_name)
    assert subnet.prefixlen == 24 and subnet.subnet_of(POOL)
    app_uninstall(user=admin_user, installation=inst)
    assert app_uninstall_run(installation_id=inst.pk)
    assert leftovers(app_engine, app_name) == NOTHING


def test_a_full_pool_fails_the_install_cleanly_and_says_why(docker_engine, admin_user, app_name, settings):
    settings.APPS_SUBNET_POOL = [free_region(docker_engine, 24)]  # room for one app network
    first = install_running(admin_user, ONE, app_name)
    second = app_install(user=admin_user, compose=ONE, name=f"{app_name}-b")
    try:
        app_install_run(installation_id=second.pk)
        second.refresh_from_db()
        assert second.status == Installation.Status.FAILED
        assert "no free subnet is left" in shown(second.error) and "CASAOS_APPS_SUBNET_POOL" in shown(second.error)
        assert leftovers(docker_engine, second.name) == NOTHING  # cleaned up as any failed install
    finally:
        wipe(docker_engine, second.name)
    assert docker_engine.inspect(f"{first.name}-web-1").running  # the app already there is untouched


@pytest.mark.timeout(600)
def test_sixty_one_service_apps_installed_at_once_all_run_then_all_go(docker_engine, admin_user):
    names = [f"n{uuid.uuid4().hex[:9]}" for _ in range(60)]
    try:
        pks = [app_install(user=admin_user, compose=ONE, name=name).pk for name in names]
        with ThreadPoolExecutor(max_workers=12) as workers:  # as several worker processes would
            list(workers.map(lambda pk: _in_thread(lambda: app_install_run(installation_id=pk)), pks))
        apps = list(Installation.objects.filter(pk__in=pks))
        failed = {a.name: a.error for a in apps if a.status != Installation.Status.RUNNING}
        assert failed == {}
        subnets = {subnet_of(docker_engine, name) for name in names}
        assert len(subnets) == 60 and all(s.prefixlen == 24 and s.subnet_of(POOL) for s in subnets)
        for app in apps:
            with urllib.request.urlopen(f"http://127.0.0.1:{app.web_port}/", timeout=5) as resp:
                assert resp.read().decode().strip() == "hello v1"

        for app in apps:
            app_uninstall(user=admin_user, installation=app)
        with ThreadPoolExecutor(max_workers=12) as workers:
            gone = list(workers.map(lambda pk: _in_thread(lambda: app_uninstall_run(installation_id=pk)), pks))
        assert all(gone) and not Installation.objects.filter(pk__in=pks).exists()
        assert [name for name in names if leftovers(docker_engine, name) != NOTHING] == []
    finally:
        for name in names:
            wipe(docker_engine, name)
