"""An app placed on the second node of the real two-node swarm, through the same apps code path as one on this box:
POST /api/apps/ with ENGINE_URL = the manager's socket, the pipeline, stop and start, the app's page, uninstall, and
nothing labelled left on either node."""

import contextlib
import time
import urllib.request
import uuid

import pytest
import yaml

import runtime
import runtime.swarm as swarm
from apps.models import Installation
from apps.services import app_install_run, app_uninstall
from apps.services.common import InstallError, engine_for
from apps.services.control import app_control, app_operation_run
from apps.services.lifecycle import app_uninstall_run
from apps.services.placement import placement_clean, swarm_state_forget
from runtime import labels as L
from tests.apps.conftest import BUSYBOX, HTTPD, install_running
from tests.conftest import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.docker, pytest.mark.swarm]
S = Installation.Status
TWO = f"""
services:
  db:
    image: {BUSYBOX}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
  web:
    image: {HTTPD}
    ports: ["${{WEBUI_PORT}}:8080"]
    depends_on: [db]
"""

# Every kind of object an app leaves, on the manager and on each node: none of them.
NOTHING = {
    key: []
    for key in ("services", *(f"{n} {k}" for n in ("node1", "node2") for k in ("containers", "networks", "volumes")))
}


def until(check, seconds: float = 60.0):
    """Poll a condition the swarm reaches on its own time (a task scheduled, a container reaped)."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def labelled_anywhere(cluster, name: str) -> dict[str, list[str]]:
    """Everything carrying the app's label: services on the manager, containers, networks, volumes on each node."""
    found = {"services": [s.name for s in swarm.SwarmEngine(cluster.manager_url).list({L.APP: name})]}
    for node, url in (("node1", cluster.manager_url), ("node2", cluster.worker_url)):
        eng = runtime.get_engine(url)
        found[f"{node} containers"] = [c.name for c in eng.list({L.APP: name})]
        found[f"{node} networks"] = [n.name for n in eng.list_networks({L.APP: name})]
        found[f"{node} volumes"] = [v.name for v in eng.list_volumes({L.APP: name})]
    return found


@pytest.fixture
def on_manager(settings, swarm_cluster, registry):
    settings.ENGINE_URL = swarm_cluster.manager_url
    swarm_state_forget()
    yield swarm_cluster
    swarm_state_forget()


@pytest.fixture
def swarm_app(on_manager):
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    with contextlib.suppress(runtime.EngineError):  # whatever a failed test left: services first, then the rest
        services = swarm.SwarmEngine(on_manager.manager_url)
        for s in services.list({L.APP: name}):
            services.remove(s.id, force=True)
        for url in (on_manager.manager_url, on_manager.worker_url):
            eng = runtime.get_engine(url)
            for c in eng.list({L.APP: name}):
                eng.remove(c.id, force=True, volumes=True)
            for n in eng.list_networks({L.APP: name}):
                eng.remove_network(n.id)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status == 200
    except OSError:
        return False


def operate(user, inst, action) -> None:
    event = app_control(user=user, installation=inst, action=action)
    app_operation_run(event_id=event.pk)
    inst.refresh_from_db()


def test_it_checks_the_machine_against_the_swarm(on_manager):
    assert placement_clean({"where": "node", "node": "casaos-sw2"}) == {"where": "node", "node": on_manager.node2_id}
    assert placement_clean({"where": "node", "node": on_manager.node1_id})["node"] == on_manager.node1_id
    assert placement_clean({"where": "any"}) == {"where": "any"}
    assert placement_clean({"where": "label", "label": " disk = ssd "}) == {"where": "label", "label": "disk=ssd"}
    with pytest.raises(InstallError) as refused:
        placement_clean({"where": "node", "node": "casaos-sw9"})
    assert refused.value.code == "placement" and "casaos-sw9" in refused.value.messages[0]


def test_an_app_placed_on_node2_runs_there_stops_starts_and_leaves_nothing(
    client, admin_user, on_manager, swarm_app, django_capture_on_commit_callbacks
):
    cluster, port = on_manager, free_port()
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks():
        response = client.post(
            "/api/apps/",
            {
                "compose": TWO,
                "name": swarm_app,
                "inputs": {"WEBUI_PORT": str(port)},
                "placement": {"where": "node", "node": "casaos-sw2"},  # by hostname: stored as the id
            },
            content_type="application/json",
        )
    assert response.status_code == 202, response.content
    inst = Installation.objects.get(name=swarm_app)
    assert inst.placement == {"where": "node", "node": cluster.node2_id}

    app_install_run(installation_id=inst.pk)
    inst.refresh_from_db()
    assert inst.status == S.RUNNING, inst.error

    info = client.get(f"/api/apps/{inst.pk}/info/").json()
    assert {c["service"]: c["node"] for c in info["containers"]} == {"db": "casaos-sw2", "web": "casaos-sw2"}
    assert until(lambda: answers(f"http://{cluster.node2_addr}:{port}/"))  # host-mode port on node2
    assert runtime.get_engine(cluster.manager_url).list({L.APP: swarm_app}) == []  # nothing ran on node1
    page = client.get(f"/apps/{inst.pk}/manage/").content.decode()
    assert "casaos-sw2" in page and 'id="app-where"' in page

    operate(admin_user, inst, "stop")
    assert inst.status == S.STOPPED, inst.detail
    assert until(lambda: not runtime.get_engine(cluster.worker_url).list({L.APP: swarm_app}, all=False))
    operate(admin_user, inst, "start")
    assert inst.status == S.RUNNING, inst.detail
    assert until(lambda: answers(f"http://{cluster.node2_addr}:{port}/"))

    app_uninstall(user=admin_user, installation=inst)  # no volumes: nothing of its data to keep
    assert app_uninstall_run(installation_id=inst.pk)
    assert not Installation.objects.filter(pk=inst.pk).exists()
    assert until(lambda: labelled_anywhere(cluster, swarm_app) == NOTHING), labelled_anywhere(cluster, swarm_app)


def test_a_real_store_app_goes_to_any_machine_and_its_folders_keep_it_on_this_box(
    admin_user, on_manager, swarm_app, tmp_path, settings
):
    """2FAuth as the store has it (network_mode: bridge, a fixed container name, a bind folder under /DATA, a memory
    reservation), the test image in place of its own: "any machine" runs it on this box's node, where its folder is."""
    from tests.apps.test_fixed_names import store_sample

    settings.FILES_ROOT = tmp_path  # its data folder is the admin's to give
    compose, names = store_sample("2FAuth", prefix=swarm_app, image=HTTPD, data=tmp_path)
    tree = yaml.safe_load(compose)
    service = tree["services"]["2fauth"]
    service.pop("healthcheck")  # busybox's static wget cannot resolve names in a task; the start is the check here
    port = int(service["ports"][0]["published"])
    service["ports"][0].pop("host_ip")  # a service publishes on every address of its node (docs/multi-node.md)
    inst = install_running(admin_user, yaml.safe_dump(tree, sort_keys=False), swarm_app, placement={"where": "any"})
    eng = engine_for(inst)
    assert [t.node for t in eng.tasks(names["2fauth"])][:1] == ["casaos-sw1"]  # pinned by its folder
    assert until(lambda: answers(f"http://{on_manager.node1_addr}:{port}/"))
    (tmp_path / "AppData" / swarm_app / "kept").write_text("data")  # the folder the task mounts, on this box

    app_uninstall(user=admin_user, installation=inst)
    assert app_uninstall_run(installation_id=inst.pk)
    assert until(lambda: labelled_anywhere(on_manager, swarm_app) == NOTHING), labelled_anywhere(on_manager, swarm_app)


def test_the_install_page_offers_where_on_a_swarm_manager(client, admin_user, on_manager):
    client.force_login(admin_user)
    page = client.get("/apps/install/").content.decode()
    assert 'id="install-where"' in page
    assert f'value="{on_manager.node2_id}"' in page and "casaos-sw2 (worker)" in page
    assert "casaos-sw1 (manager)" in page
    assert 'id="where-binds"' in page  # a pasted document may bind folders of this box: the form says what happens


def test_bind_folders_cannot_be_sent_to_another_machine(admin_user, on_manager, swarm_app):
    from apps.services import app_install
    from apps.services.policy import app_data_folder

    compose = f"services:\n  web:\n    image: {HTTPD}\n    volumes: ['{app_data_folder(swarm_app)}/data:/data']\n"
    with pytest.raises(InstallError) as refused:
        app_install(
            user=admin_user, compose=compose, name=swarm_app, placement={"where": "node", "node": on_manager.node2_id}
        )
    assert refused.value.code == "placement"
    assert "casaos-sw2" in refused.value.messages[0]
    assert not Installation.objects.filter(name=swarm_app).exists()


def test_a_swarm_tasks_container_is_not_a_foreign_container(on_manager, swarm_app):
    """The manager's own engine runs task containers too: they are the swarm's, never offered to adopt or stop."""
    import docker

    from apps.services.foreign import foreign_get, foreign_list

    api = docker.APIClient(base_url=on_manager.manager_url, version="auto", timeout=30)
    task = docker.types.TaskTemplate(
        container_spec=docker.types.ContainerSpec(BUSYBOX, command=["sleep", "3600"]),
        placement=docker.types.Placement(constraints=[f"node.id=={on_manager.node1_id}"]),
    )
    service = api.create_service(task, name=swarm_app)["ID"]
    try:
        node1 = runtime.get_engine(on_manager.manager_url)
        running = until(lambda: [c for c in node1.list({"com.docker.swarm.service.id": service}) if c.running])
        assert running, "the service's task never ran on node1"
        assert running[0].id not in {c.id for c in foreign_list(eng=node1)}
        with pytest.raises(InstallError) as refused:
            foreign_get(container_id=running[0].id, eng=node1)
        assert refused.value.code == "swarm"
    finally:
        api.remove_service(service)


def test_settings_and_an_update_of_an_app_on_node2_keep_it_there(admin_user, on_manager, swarm_app):
    """The same settings change and update as on one box: each service replaced under its name, on its machine."""
    from apps.models import AppEvent
    from apps.services.settings_edit import ServiceEdit, app_settings_change
    from apps.services.update import app_update_start
    from tests.apps.test_change import moving_tag_on, retag, run

    port = free_port()
    with moving_tag_on(runtime.get_engine(on_manager.manager_url)) as image:
        compose = f"services:\n  web:\n    image: {image}\n    ports: ['{port}:8080']\n    stop_grace_period: 1s\n"
        inst = install_running(admin_user, compose, swarm_app, placement={"where": "node", "node": "casaos-sw2"})
        eng, web = engine_for(inst), L.container_name(swarm_app, "web")
        page = f"http://{on_manager.node2_addr}:{port}/"
        assert until(lambda: answers(page))

        event = run(
            app_settings_change(user=admin_user, installation=inst, edits={"web": ServiceEdit(env={"G": "new"})}), inst
        )
        assert event.outcome == AppEvent.Outcome.DONE, event.message
        assert "G=new" in eng.container_config(web)["Config"]["Env"]
        assert eng.tasks(web)[0].node == "casaos-sw2" and eng.inspect(web).running
        assert [s.name for s in eng.list({L.APP: swarm_app})] == [web]  # nothing set aside left over

        retag("2", image.rsplit(":", 1)[1])  # the publisher pushed a new version under the same tag
        event = run(app_update_start(user=admin_user, installation=inst), inst)
        assert event.outcome == AppEvent.Outcome.DONE, event.message
        assert until(lambda: _body(page) == "hello v2")
        assert eng.tasks(web)[0].node == "casaos-sw2"

        app_uninstall(user=admin_user, installation=inst)
        assert app_uninstall_run(installation_id=inst.pk)
    assert until(lambda: labelled_anywhere(on_manager, swarm_app) == NOTHING), labelled_anywhere(on_manager, swarm_app)


def _body(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.read().decode().strip()
    except OSError:
        return ""
