"""Foreign containers (listed, started, stopped, adopted), per-app figures, tiles and grants (real Docker)."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.models import AppGrant, AppTile, Installation
from apps.selectors import app_stats, app_tiles
from apps.services import app_install, app_install_run
from apps.services.common import InstallError
from apps.services.foreign import foreign_adopt, foreign_control, foreign_list
from apps.services.visibility import app_grants_set, tile_hide, tiles_reorder
from runtime import labels as L
from runtime.specs import ContainerSpec, PortSpec
from tests.apps.conftest import BUSYBOX, HTTPD, wipe
from tests.conftest import free_port

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]
S = Installation.Status


@pytest.fixture
def foreign(docker_engine, registry):
    """A container made by hand (no app label), with a published port and an env value."""
    name = f"hand-{uuid.uuid4().hex[:8]}"
    port = free_port()
    cid = docker_engine.create(
        ContainerSpec(
            name=name,
            image=HTTPD,
            env={"GREETING": "by hand"},
            ports=(PortSpec(target=8080, published=port, host_ip="127.0.0.1"),),
        )
    )
    docker_engine.start(cid)
    yield docker_engine.inspect(cid)
    docker_engine.remove(cid, force=True)


def test_it_lists_starts_and_stops_foreign_containers_only(docker_engine, admin_user, app_name, foreign):
    inst = app_install(
        user=admin_user,
        compose=f"services:\n  job:\n    image: {BUSYBOX}\n    command: [sleep, '600']\n",
        name=app_name,
    )
    app_install_run(installation_id=inst.pk)

    listed = {c.id for c in foreign_list(eng=docker_engine)}
    assert foreign.id in listed
    assert not listed & {c.id for c in docker_engine.list({L.APP: app_name})}

    assert not foreign_control(user=admin_user, container_id=foreign.id, action="stop").running
    assert foreign_control(user=admin_user, container_id=foreign.id, action="start").running
    (ours,) = docker_engine.list({L.APP: app_name})
    with pytest.raises(InstallError):
        foreign_control(user=admin_user, container_id=ours.id, action="stop")  # an app's container is refused
    assert docker_engine.inspect(ours.id).running


def test_it_adopts_a_foreign_container_as_a_custom_app(docker_engine, admin_user, foreign):
    name = f"adopt{uuid.uuid4().hex[:6]}"
    try:
        inst = foreign_adopt(user=admin_user, container_id=foreign.id, name=name)
        app_install_run(installation_id=inst.pk)
        inst.refresh_from_db()

        assert inst.status == S.RUNNING, inst.error
        (adopted,) = docker_engine.list({L.APP: name})
        assert "GREETING=by hand" in docker_engine.exec(adopted.id, ["env"], tty=False).read_all().decode()
        assert [p.host_port for p in adopted.ports] == [foreign.ports[0].host_port]
        assert not docker_engine.inspect(foreign.id).running  # kept, stopped
    finally:
        wipe(docker_engine, name)


def test_it_measures_an_apps_cpu_and_memory(docker_engine, admin_user, app_name, registry):
    inst = app_install(user=admin_user, compose=f"services:\n  web:\n    image: {HTTPD}\n", name=app_name)
    app_install_run(installation_id=inst.pk)
    stats = app_stats(inst=inst, eng=docker_engine)
    assert stats["memory_usage"] > 0 and [s["service"] for s in stats["services"]] == ["web"]


def test_tiles_keep_each_users_order_and_hidden_apps(admin_user, member_user):
    a, b, c = (Installation.objects.create(name=n, compose="services: {}", status=S.RUNNING) for n in "abc")
    tiles_reorder(user=admin_user, order=[c.pk, a.pk, b.pk, 999])
    tile_hide(user=admin_user, installation=a, hidden=True)

    assert [t["name"] for t in app_tiles(user=admin_user)] == ["c", "b"]
    assert [t["name"] for t in app_tiles(user=admin_user, show_hidden=True)] == ["c", "a", "b"]
    assert app_tiles(user=member_user) == []  # nothing granted yet

    app_grants_set(user=admin_user, installation=b, member_ids=[member_user.pk, admin_user.pk + 999])
    assert [t["name"] for t in app_tiles(user=member_user)] == ["b"]
    tiles_reorder(user=member_user, order=[a.pk, b.pk])  # an ungranted id is ignored
    assert not AppTile.objects.filter(user=member_user, installation=a).exists()
    assert list(AppGrant.objects.values_list("user_id", flat=True)) == [member_user.pk]


def test_the_apps_page_costs_the_same_queries_for_one_store_app_or_many(client, admin_user, tmp_path):
    # Each tile's icon and "update available" mark come with the page's own queries, not in two per store app.
    from appstore.models import CatalogApp, InstalledTemplate, Store

    store = Store.objects.create(name="local", kind=Store.Kind.FOLDER, path=str(tmp_path))
    client.force_login(admin_user)

    def store_app(i: int) -> None:
        app = CatalogApp.objects.create(store=store, store_app_id=f"s{i}", title={"en_us": f"S{i}"}, icon=f"i{i}.png")
        inst = Installation.objects.create(
            name=f"s{i}", compose="services: {}", status=S.RUNNING, source="store", store_ref=str(app.pk)
        )
        InstalledTemplate.objects.create(
            installation=inst, store=store, store_app_id=app.store_app_id, update_available=i % 2 == 0
        )

    def queries() -> tuple[int, bytes]:
        with CaptureQueriesContext(connection) as captured:
            page = client.get("/apps/")
        assert page.status_code == 200
        return len(captured.captured_queries), page.content

    store_app(0)
    queries()  # the session's first page reads what later pages find cached
    one, _page = queries()
    for i in range(1, 9):
        store_app(i)
    many, page = queries()
    assert many == one
    assert page.count(b'class="tile-icon"') == 9 and b"/i8.png" in page
    assert page.count(b'class="update-flag"') == 5  # s0, s2, s4, s6, s8
