"""Where an app runs: the placement's validation, its refusal on a box that manages no swarm (the plain test engine),
the engine an installation gets, the status listener leaving a swarm app alone, the install form's Where choice and
the export's x-casaos-placement."""

import pytest
import yaml

from apps.forms import InstallForm
from apps.models import Installation
from apps.services.common import InstallError, engine, engine_for, engine_is_swarm
from apps.services.export import app_export
from apps.services.install import app_project
from apps.services.placement import (
    LOOPBACK,
    placement_clean,
    placement_local,
    placement_words,
    swarm_state_forget,
    web_host,
)
from apps.services.status import app_status_refresh
from casaos_site.i18n import shown
from tests.apps.conftest import BUSYBOX, HTTPD

pytestmark = pytest.mark.django_db
S = Installation.Status
TWO = (
    f"services:\n  web:\n    image: {HTTPD}\n    ports: ['${{WEBUI_PORT}}:8080']\n"
    f"  sidecar:\n    image: {BUSYBOX}\n    command: ['sleep', '3600']\n"
)


@pytest.fixture(autouse=True)
def _fresh_state():
    swarm_state_forget()  # "is this box a swarm manager" is cached per engine URL
    yield
    swarm_state_forget()


# ---------------------------------------------------------------------------- validation
@pytest.mark.parametrize("asked", [None, {}, {"where": "local"}, ""])
def test_it_keeps_an_app_on_this_box_unless_told_otherwise(asked):
    assert placement_clean(asked) == {}
    assert placement_local(placement_clean(asked))


@pytest.mark.parametrize(
    "asked",
    [
        {"where": "moon"},
        "any",
        ["any"],
        {"where": "any", "host": "x"},
        {"where": "node"},
        {"where": "node", "node": "a b"},
        {"where": "node", "node": "n1 || node.role==manager"},
        {"where": "label"},
        {"where": "label", "label": "disk"},
        {"where": "label", "label": "disk==ssd"},
        {"where": "label", "label": "disk=ssd,node.role==manager"},
        {"where": "label", "label": "disk=s sd"},
        {"where": "label", "label": "k" * 65 + "=v"},
        {"where": "label", "label": "=ssd"},
        {"where": "node", "node": "abc\n"},
    ],
)
def test_it_refuses_a_malformed_placement_before_asking_the_engine(asked):
    with pytest.raises(InstallError) as refused:
        placement_clean(asked)
    assert refused.value.code == "placement"
    assert "swarm manager" not in refused.value.messages[0]  # the shape is judged first


@pytest.mark.docker
@pytest.mark.parametrize(
    "asked", [{"where": "any"}, {"where": "node", "node": "casaos-sw2"}, {"where": "label", "label": "disk=ssd"}]
)
def test_it_refuses_the_swarm_when_this_box_is_no_manager(asked, docker_engine):
    with pytest.raises(InstallError) as refused:
        placement_clean(asked)
    assert refused.value.code == "placement"
    assert "Make this box a swarm manager on the Machines page first." in refused.value.messages[0]


def test_it_says_where_in_words():
    assert shown(placement_words({})) == "This box"
    assert shown(placement_words({"where": "any"})) == "Any machine of the swarm"
    assert shown(placement_words({"where": "node", "node": "abc"}, {"abc": "casaos-sw2"})) == "The machine casaos-sw2"
    assert shown(placement_words({"where": "label", "label": "disk=ssd"})) == "Machines with the label disk=ssd"


# ---------------------------------------------------------------------------- the API
@pytest.fixture
def admin_api(client, admin_user, docker_engine):
    client.force_login(admin_user)
    return client


@pytest.mark.docker
@pytest.mark.parametrize("path", ["/api/apps/", "/api/apps/custom/"])
def test_the_api_refuses_a_swarm_placement_on_a_plain_engine_and_creates_nothing(admin_api, app_name, path):
    body = {"compose": TWO, "name": app_name, "placement": {"where": "node", "node": "casaos-sw2"}}
    response = admin_api.post(path, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "placement"
    assert "Machines page" in response.json()["detail"]
    assert not Installation.objects.filter(name=app_name).exists()


@pytest.mark.docker
@pytest.mark.parametrize(
    ("placement", "code"),
    [
        ({"where": "moon"}, None),  # the serializer's choice
        ("any", None),  # not an object
        ({"where": "label", "label": "disk=ssd;reboot"}, "placement"),
    ],
)
def test_the_api_refuses_a_malformed_placement(admin_api, app_name, placement, code):
    body = {"compose": TWO, "name": app_name, "placement": placement}
    response = admin_api.post("/api/apps/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert code is None or response.json()["code"] == code
    assert not Installation.objects.filter(name=app_name).exists()


@pytest.mark.docker
def test_the_api_installs_on_this_box_with_a_local_placement(admin_api, app_name, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        body = {"compose": TWO, "name": app_name, "placement": {"where": "local"}}
        response = admin_api.post("/api/apps/", body, content_type="application/json")
    assert response.status_code == 202, response.content
    inst = Installation.objects.get(name=app_name)
    assert inst.placement == {}
    assert admin_api.get(f"/api/apps/{inst.pk}/").json()["placement"] == {}


def test_the_schema_documents_placement(client, member_user):
    client.force_login(member_user)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    request = schema["components"]["schemas"]["InstallRequest"]["properties"]
    assert request["placement"]["allOf"][0]["$ref"].endswith("/Placement")
    where = schema["components"]["schemas"]["Placement"]["properties"]["where"]
    enum = schema["components"]["schemas"][where["allOf"][0]["$ref"].rpartition("/")[2]]["enum"]
    assert set(enum) == {"local", "any", "node", "label"}
    catalogue = schema["components"]["schemas"]["CatalogInstall"]["properties"]
    assert "placement" in catalogue


# ---------------------------------------------------------------------------- the engine of an installation
@pytest.mark.docker
def test_an_app_on_this_box_gets_the_plain_engine(docker_engine):
    assert engine_for(Installation(name="x", placement={})) is engine()
    assert not engine_is_swarm(engine_for(Installation(name="x")))


def test_an_app_on_the_swarm_gets_a_swarm_engine_per_placement():
    swarm = pytest.importorskip("runtime.swarm", reason="runtime.swarm arrives with the swengine branch")
    if not hasattr(swarm, "SwarmEngine"):
        pytest.skip("runtime.swarm.SwarmEngine arrives with the swengine branch")
    on_node = engine_for(Installation(name="x", placement={"where": "node", "node": "abc"}))
    assert isinstance(on_node, swarm.SwarmEngine) and engine_is_swarm(on_node)
    assert engine_for(Installation(name="y", placement={"where": "node", "node": "abc"})) is on_node  # cached
    anywhere = engine_for(Installation(name="x", placement={"where": "any"}))
    assert isinstance(anywhere, swarm.SwarmEngine) and anywhere is not on_node


@pytest.mark.docker
def test_an_app_on_this_box_is_probed_on_this_box(docker_engine):
    inst = Installation(name="probe", compose=TWO, variables={"WEBUI_PORT": "8080"})
    assert web_host(eng=engine_for(inst), project=app_project(installation=inst), port=8080) == LOOPBACK


# ---------------------------------------------------------------------------- status
@pytest.mark.docker
def test_the_plain_engine_leaves_a_swarm_app_alone(docker_engine, app_name):
    """The plain engine has no containers for an app on the swarm: it must not call it removed outside CasaOS."""
    swarm_app = Installation.objects.create(name=app_name, compose=TWO, status=S.RUNNING, placement={"where": "any"})
    local_twin = Installation.objects.create(name=f"{app_name}b", compose=TWO, status=S.RUNNING)

    assert app_status_refresh(eng=docker_engine, name=swarm_app.name) is None
    app_status_refresh(eng=docker_engine, name=local_twin.name)

    swarm_app.refresh_from_db()
    local_twin.refresh_from_db()
    assert (swarm_app.status, swarm_app.detail) == (S.RUNNING, "")
    assert local_twin.status == S.STOPPED  # the same call on an app of this box does judge it


# ---------------------------------------------------------------------------- form and export
@pytest.mark.docker
def test_the_install_form_offers_no_where_on_a_plain_engine(docker_engine, client, admin_user):
    assert "where" not in InstallForm().fields
    client.force_login(admin_user)
    page = client.get("/apps/install/").content.decode()
    assert 'id="install-where"' not in page


def test_an_export_keeps_where_a_swarm_app_ran():
    inst = Installation(
        name="exp", compose=TWO, variables={"WEBUI_PORT": "8080"}, placement={"where": "label", "label": "disk=ssd"}
    )
    tree = yaml.safe_load(app_export(installation=inst))
    assert tree["x-casaos-placement"] == {"where": "label", "label": "disk=ssd"}
    assert "x-casaos-placement" not in yaml.safe_load(app_export(installation=Installation(name="e", compose=TWO)))
