"""The container policy attacked through the real server (issue 12.1, 12.2, 12.3, 12.5, 12.7; SECURITY.md 3 and 12).

Every attack is sent as an adversary with a full-scope API token would send it; each checks the API's answer and
then the engine itself: nothing labelled with the app, no container under its name, no row, no folder on the host.
The allowed cases (the app's own folder, sharing a namespace within the app, Docker's default capabilities) still
install and run.
"""

import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import APIToken
from accounts.services.tokens import api_token_create
from apps.models import AppEvent, AppUpdateState, Installation
from apps.services.policy import app_data_folder
from runtime import labels as L
from runtime.errors import NotFound
from runtime.specs import ContainerSpec, MountSpec, VolumeSpec
from tests.apps.conftest import BUSYBOX, HTTPD, NOTHING, leftovers, wipe
from tests.attacks.conftest import Api

pytestmark = [pytest.mark.stack, pytest.mark.docker]

WEB = f"services:\n  web:\n    image: {HTTPD}\n"


def service(extra: str, top: str = "") -> str:
    """A one-service app (busybox httpd) with `extra` lines under the service and `top` at the top level."""
    body = "\n".join("    " + line for line in extra.strip().splitlines())
    return f"services:\n  web:\n    image: {HTTPD}\n{body}\n{top}"


@pytest.fixture
def name(engine):
    """A fresh app name; whatever an attack might have left on the engine is removed afterwards."""
    value = f"atk{uuid.uuid4().hex[:10]}"
    yield value
    wipe(engine, value)


@pytest.fixture
def victim(engine, registry):
    """Another app's running container and its volume, as the engine holds them."""
    app = f"victim{uuid.uuid4().hex[:8]}"
    engine.pull(BUSYBOX)
    spec = ContainerSpec(name=f"{app}-web-1", image=BUSYBOX, service="web", labels=L.container_labels(app, "web"))
    engine.create(spec)
    engine.start(spec.name)
    engine.create_volume(VolumeSpec(name=f"{app}_data", key="data", labels=L.volume_labels(app, "data")))
    yield app
    wipe(engine, app)


@pytest.fixture
def installer_api(live_stack, installer_user, transactional_db) -> Api:
    return Api(live_stack.url, api_token_create(user=installer_user, name="attack", scope=APIToken.Scope.FULL)[1])


def install(api: Api, compose: str, name: str, **extra):
    return api.post("/api/apps/", json={"compose": compose, "name": name, **extra})


def assert_nothing_made(engine, name: str) -> None:
    """The engine holds nothing of the app, and no row or queued work exists for it."""
    assert leftovers(engine, name) == NOTHING
    assert not engine.list({L.PROJECT: name})
    with pytest.raises(NotFound):
        engine.inspect(f"{name}-web-1")
    assert not Installation.objects.filter(name=name).exists()


def running(api: Api, pk: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/api/apps/{pk}/").json()
        assert body["status"] not in ("failed", "cancelled"), body
        if body["status"] == "running":
            return body
        time.sleep(0.5)
    raise AssertionError(f"app {pk} did not run: {body}")


def ended(api: Api, pk: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/api/apps/{pk}/").json()
        if body["status"] in ("failed", "cancelled", "running"):
            return body
        time.sleep(0.5)
    raise AssertionError(f"app {pk} did not end: {body}")


def finding(answer, code: str) -> dict:
    found = [f for f in answer.json().get("findings", []) if f["code"] == code]
    assert found, answer.json()
    return found[0]


# ---------------------------------------------------------------------------- host access needs consent (12.1, 2, 5, 7)
HOST_ACCESS = [
    pytest.param("volumes: ['/var:/h']", "", "engine_data", "/var", id="var-bind"),
    pytest.param("volumes: ['/tmp:/h']", "", "host_folder", "/tmp", id="tmp-bind"),
    pytest.param("volumes: ['/home:/h']", "", "host_folder", "/home", id="home-bind"),
    pytest.param("volumes: ['/var/run/docker.sock:/s']", "", "engine_socket", "/var/run/docker.sock", id="socket"),
    pytest.param(
        "volumes: ['disk:/d']",
        "volumes:\n  disk:\n    driver_opts: {type: ext4, device: /dev/sda1}\n",
        "volume_driver",
        "device=/dev/sda1,type=ext4",
        id="device-volume",
    ),
    pytest.param(
        "volumes: ['share:/d']",
        "volumes:\n  share:\n    driver_opts: {type: nfs, o: 'addr=10.9.9.9,ro', device: ':/export'}\n",
        "volume_driver",
        "device=:/export,o=addr=10.9.9.9,ro,type=nfs",
        id="nfs-volume",
    ),
    pytest.param("cap_add: [MAC_ADMIN]", "", "cap_add", "MAC_ADMIN", id="cap-mac-admin"),
    pytest.param("cap_add: [SYSLOG]", "", "cap_add", "SYSLOG", id="cap-syslog"),
    pytest.param("cap_add: [LINUX_IMMUTABLE]", "", "cap_add", "LINUX_IMMUTABLE", id="cap-linux-immutable"),
    pytest.param("cap_add: [IPC_LOCK]", "", "cap_add", "IPC_LOCK", id="cap-ipc-lock"),
    pytest.param("cgroup_parent: /", "", "cgroup_parent", "/", id="cgroup-parent"),
    pytest.param(
        "security_opt: ['systempaths=unconfined']", "", "unconfined", "systempaths=unconfined", id="systempaths"
    ),
    pytest.param(
        "security_opt: ['no-new-privileges:false']", "", "unconfined", "no-new-privileges:false", id="no-new-privs-off"
    ),
    pytest.param("oom_score_adj: -900", "", "oom_score_adj", "-900", id="oom-score"),
    pytest.param("ulimits: {nofile: 2147483584}", "", "ulimit", "nofile=2147483584:2147483584", id="ulimits"),
    pytest.param(
        "sysctls: {kernel.shm_rmid_forced: '1'}", "", "sysctl", "kernel.shm_rmid_forced=1", id="sysctl-kernel"
    ),
    pytest.param("privileged: true", "", "privileged", "true", id="privileged"),
    pytest.param("devices: ['/dev/null:/dev/x']", "", "devices", "/dev/null", id="devices"),
    pytest.param("network_mode: host", "", "host_network", "host", id="host-network"),
    # 12.1: every host folder the attack reached, not only /var and /tmp
    pytest.param("volumes: ['/opt:/h']", "", "host_folder", "/opt", id="opt-bind"),
    pytest.param("volumes: ['/srv:/h']", "", "host_folder", "/srv", id="srv-bind"),
    pytest.param("volumes: ['/mnt:/h']", "", "host_folder", "/mnt", id="mnt-bind"),
    pytest.param("volumes: ['/media:/h']", "", "host_folder", "/media", id="media-bind"),
    pytest.param("volumes: ['/etc:/h:ro']", "", "system_bind", "/etc", id="etc-bind"),
    pytest.param(
        "volumes: ['etc:/h']",
        "volumes:\n  etc:\n    driver_opts: {type: none, o: bind, device: /etc}\n",
        "system_bind",
        "/etc",
        id="bind-like-volume",
    ),
    # 12.2: host namespaces, whichever key
    pytest.param("pid: host", "", "host_pid", "host", id="host-pid"),
    pytest.param("ipc: host", "", "host_ipc", "host", id="host-ipc"),
    pytest.param("userns_mode: host", "", "host_userns", "host", id="host-userns"),
    pytest.param("cgroup: host", "", "host_cgroup", "host", id="host-cgroup"),
    # 12.5: a network share
    pytest.param(
        "volumes: ['share:/d']",
        "volumes:\n  share:\n    driver_opts: {type: cifs, o: 'vers=3.0', device: '//10.9.9.9/s'}\n",
        "volume_driver",
        "device=//10.9.9.9/s,o=vers=3.0,type=cifs",
        id="cifs-volume",
    ),
    # 12.7: other spellings of the same capabilities and confinement
    pytest.param("cap_add: [cap_sys_admin]", "", "cap_add", "SYS_ADMIN", id="cap-lowercase"),
    pytest.param("cap_add: [ALL]", "", "cap_add", "ALL", id="cap-all"),
    pytest.param("security_opt: ['seccomp=unconfined']", "", "unconfined", "seccomp=unconfined", id="seccomp"),
    pytest.param("security_opt: ['apparmor=unconfined']", "", "unconfined", "apparmor=unconfined", id="apparmor"),
    pytest.param("sysctls: {vm.swappiness: '1'}", "", "sysctl", "vm.swappiness=1", id="sysctl-vm"),
    pytest.param("ulimits: {memlock: -1}", "", "ulimit", "memlock=-1:-1", id="ulimit-unlimited"),
]


@pytest.mark.parametrize(("extra", "top", "code", "value"), HOST_ACCESS)
def test_host_access_without_consent_is_refused_and_nothing_is_made(admin_api, engine, name, extra, top, code, value):
    answer = install(admin_api, service(extra, top), name)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "consent"
    hit = finding(answer, code)
    assert (hit["level"], hit["value"]) == ("host_access", value)
    assert hit["key"] in hit["reason"] and value.split("=")[0] in hit["reason"]  # names the key and the value
    assert_nothing_made(engine, name)


@pytest.mark.parametrize("key", ["pid", "network_mode", "ipc"])
def test_joining_another_apps_container_needs_consent(admin_api, engine, name, victim, key):
    answer = install(admin_api, service(f"{key}: 'container:{victim}-web-1'"), name)
    assert answer.status_code == 400, answer.text
    assert finding(answer, "other_container")["value"] == f"container:{victim}-web-1"
    assert_nothing_made(engine, name)
    # The victim was not touched either.
    assert engine.inspect(f"{victim}-web-1").running


@pytest.mark.parametrize(
    ("source", "code"),
    [
        (lambda: "/var", "engine_data"),
        (lambda: str(settings.DATA_DIR), "casaos_data"),
        (lambda: f"{settings.DATA_DIR}/secret_key", "casaos_data"),
        (lambda: str(settings.BASE_DIR), "casaos_code"),
        (lambda: "/var/lib/docker", "engine_data"),
        (lambda: "/run", "engine_socket"),
    ],
    ids=["var", "data-dir", "secret-key", "code-dir", "engine-root", "run"],
)
def test_our_own_data_code_and_the_engine_need_a_consent_that_names_them(admin_api, engine, name, source, code):
    path = source()
    answer = install(admin_api, service(f"volumes: ['{path}:/h:ro']"), name, consent=True)  # a token counts as step-up
    assert answer.status_code == 400, answer.text
    hit = finding(answer, code)
    assert hit["explicit"] is True and path in answer.json()["detail"]
    assert_nothing_made(engine, name)


def test_another_apps_volume_is_refused_even_with_consent(admin_api, engine, name, victim):
    top = f"volumes:\n  theirs:\n    external: true\n    name: {victim}_data\n"
    answer = install(admin_api, service("volumes: ['theirs:/steal']", top), name, consent=True)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "policy"
    hit = finding(answer, "other_app_volume")
    assert (hit["level"], hit["value"]) == ("refused", f"{victim}_data") and victim in hit["reason"]
    assert_nothing_made(engine, name)


def test_a_consented_host_folder_that_is_missing_is_not_created(admin_api, engine, name):
    folder = Path(f"/srv/casaos-attack-{name}")
    answer = install(admin_api, service(f"volumes: ['{folder}/deep:/h']"), name, consent=True)
    assert answer.status_code == 202, answer.text  # an admin consented; the installer still creates nothing there
    state = ended(admin_api, answer.json()["id"])
    assert state["status"] == "failed" and "does not exist" in state["error"]
    assert not folder.exists()
    assert leftovers(engine, name) == NOTHING


def test_a_uts_namespace_is_not_even_translated(admin_api, engine, name):
    answer = install(admin_api, service("uts: host"), name)  # no spelling of it reaches the engine
    assert answer.status_code == 400 and "uts" in answer.json()["detail"], answer.text
    assert_nothing_made(engine, name)


# ---------------------------------------------------------------------------- members (12.3)
@pytest.mark.parametrize(("extra", "top", "code", "value"), HOST_ACCESS[:4] + HOST_ACCESS[6:8])
def test_a_member_with_install_rights_can_never_consent(installer_api, engine, name, extra, top, code, value):
    answer = install(installer_api, service(extra, top), name, consent=True, consent_paths=[value])
    assert answer.status_code == 403, answer.text
    assert answer.json()["code"] == "forbidden" and "Only an administrator" in answer.json()["detail"]
    assert finding(answer, code)["value"] == value
    assert_nothing_made(engine, name)


def test_a_member_without_install_rights_installs_nothing(member_api, engine, name):
    answer = install(member_api, WEB, name)
    assert answer.status_code == 403
    assert_nothing_made(engine, name)


def test_a_member_cannot_install_a_store_app_that_needs_consent(installer_api, engine, name, allow_lan):
    from appstore.models import CatalogApp
    from tests.appstore.conftest import ODD_STORE, make_store, sync

    sync(make_store(path=str(ODD_STORE)))
    risky = CatalogApp.objects.get(store_app_id="risky")
    assert risky.needs_consent
    answer = installer_api.post(f"/api/catalog/{risky.pk}/install/", json={"name": name, "consent": True})
    assert answer.status_code == 403, answer.text
    assert answer.json()["code"] == "forbidden"
    assert {f["code"] for f in answer.json()["findings"]} >= {"privileged", "engine_socket", "root_bind"}
    assert_nothing_made(engine, name)


@pytest.fixture
def allow_lan(transactional_db):
    from appstore.models import AppstoreSettings

    AppstoreSettings.objects.filter(pk=AppstoreSettings.load().pk).update(allow_lan_stores=True)


# ---------------------------------------------------------------------------- settings edits (12.1)
def test_a_settings_edit_adding_a_bind_needs_consent_and_changes_nothing(
    admin_api, installer_api, engine, name, victim
):
    answer = install(admin_api, WEB, name)
    assert answer.status_code == 202, answer.text
    pk = answer.json()["id"]
    running(admin_api, pk)
    before = engine.container_config(f"{name}-web-1")

    edit = {"services": {"web": {"volumes": ["/var:/h"]}}}
    refused = admin_api.post(f"/api/apps/{pk}/settings/", json=edit)
    assert refused.status_code == 400 and finding(refused, "engine_data")["explicit"]
    refused = admin_api.post(f"/api/apps/{pk}/settings/", json={**edit, "consent": True})
    assert refused.status_code == 400 and "/var" in refused.json()["detail"]  # named, or not at all
    tmp = admin_api.post(f"/api/apps/{pk}/settings/", json={"services": {"web": {"volumes": ["/tmp:/h"]}}})
    assert tmp.status_code == 400 and finding(tmp, "host_folder")["value"] == "/tmp"
    member = installer_api.post(f"/api/apps/{pk}/settings/", json={**edit, "consent": True})
    assert member.status_code == 403
    raw = admin_api.post(f"/api/apps/{pk}/settings/", json={"compose": service(f"pid: 'container:{victim}-web-1'")})
    assert raw.status_code == 400 and finding(raw, "other_container")["value"] == f"container:{victim}-web-1"

    after = engine.container_config(f"{name}-web-1")
    assert (after["Id"], after["Mounts"], after["HostConfig"]["Binds"]) == (
        before["Id"],
        before["Mounts"],
        before["HostConfig"]["Binds"],
    )
    assert not AppEvent.objects.filter(installation_id=pk, operation="settings").exists()


# ---------------------------------------------------------------------------- adopting a container (12.1, 12.5)
@pytest.fixture
def foreign(engine, registry):
    """Make a container by hand, outside any app (what adopting takes in), running with the mounts given."""
    made = []

    def make(*mounts: MountSpec) -> str:
        spec = ContainerSpec(name=f"hand-{uuid.uuid4().hex[:8]}", image=HTTPD, mounts=mounts)
        made.append(engine.create(spec))
        engine.start(made[-1])
        return made[-1]

    yield make
    for cid in made:
        engine.remove(cid, force=True)


def adopt(api: Api, cid: str, name: str, **extra):
    return api.post(f"/api/apps/containers/{cid}/adopt/", json={"name": name, **extra})


def test_adopting_a_container_with_the_engines_data_needs_a_consent_that_names_it(admin_api, engine, name, foreign):
    cid = foreign(MountSpec(type="bind", source="/var", target="/h", read_only=True))
    answer = adopt(admin_api, cid, name)
    assert answer.status_code == 400 and finding(answer, "engine_data")["value"] == "/var", answer.text
    answer = adopt(admin_api, cid, name, consent=True)  # consent alone does not give the engine's data
    assert answer.status_code == 400 and finding(answer, "engine_data")["explicit"], answer.text
    assert_nothing_made(engine, name)
    assert engine.inspect(cid).running  # the original runs again as it did


def test_adopting_a_container_that_uses_another_apps_volume_is_refused(admin_api, engine, name, victim, foreign):
    cid = foreign(MountSpec(type="volume", source=f"{victim}_data", target="/steal"))
    answer = adopt(admin_api, cid, name, consent=True)
    assert answer.status_code == 400 and answer.json()["code"] == "policy", answer.text
    assert finding(answer, "other_app_volume")["value"] == f"{victim}_data"
    assert_nothing_made(engine, name)
    assert engine.inspect(cid).running


# ---------------------------------------------------------------------------- updates (12.1, 12.2)
def store_app(folder: Path, app_id: str, port: int, extra: str = "", volume: str = "") -> None:
    """One app of a folder store, as a store publishes it (its data under /DATA/AppData/$AppID)."""
    compose = f"""services:
  web:
    image: {HTTPD}
    ports: ["127.0.0.1:{port}:8080"]
    volumes: [/DATA/AppData/$AppID/data:/data{volume}]
    {extra}
x-casaos: {{main: web, title: {{en_us: Turncoat}}}}
"""
    (folder / "Apps" / app_id).mkdir(parents=True, exist_ok=True)
    (folder / "Apps" / app_id / "docker-compose.yml").write_text(compose)


def test_an_update_to_a_template_that_asks_for_host_access_needs_consent_and_changes_nothing(
    admin_api, engine, name, victim, allow_lan, tmp_path
):
    from appstore.models import CatalogApp, InstalledTemplate
    from tests.appstore.conftest import make_store, sync
    from tests.conftest import free_port

    port, store = free_port(), tmp_path / "store"
    store_app(store, name, port)
    row = sync(make_store(path=str(store), name=f"store {name}"))
    app = CatalogApp.objects.get(store=row, store_app_id=name)
    assert not app.needs_consent  # its own folder under /DATA/AppData/$AppID: nothing to consent to
    answer = admin_api.post(f"/api/catalog/{app.pk}/install/", json={"name": name})
    assert answer.status_code == 202, answer.text
    pk = answer.json()["id"]
    running(admin_api, pk)
    before = engine.container_config(f"{name}-web-1")

    # The store turns: the next version joins another app's processes and takes the engine's data.
    store_app(store, name, port, f"pid: 'container:{victim}-web-1'", ", '/var:/h'")
    sync(row)
    assert CatalogApp.objects.get(pk=app.pk).needs_consent
    assert InstalledTemplate.objects.get(installation_id=pk).update_available
    AppUpdateState.objects.update_or_create(installation_id=pk, defaults={"available": True})  # "update all" takes it
    refused = admin_api.post(f"/api/apps/{pk}/update/", json={})
    assert refused.status_code == 400 and refused.json()["code"] == "consent", refused.text
    assert {f["code"] for f in refused.json()["findings"]} == {"other_container", "engine_data"}
    refused = admin_api.post(f"/api/apps/{pk}/update/", json={"consent": True})
    assert refused.status_code == 400 and "/var" in refused.json()["detail"]  # named, or not at all
    everything = admin_api.post("/api/apps/update-all/", json={})
    assert name not in everything.json()["queued"] and any(s.startswith(name) for s in everything.json()["skipped"])

    after = engine.container_config(f"{name}-web-1")
    assert (after["Id"], after["HostConfig"]["PidMode"], after["Mounts"]) == (
        before["Id"],
        before["HostConfig"]["PidMode"],
        before["Mounts"],
    )
    assert not AppEvent.objects.filter(installation_id=pk, operation="update").exists()


# ---------------------------------------------------------------------------- what stays allowed
def test_the_apps_own_folder_its_own_namespaces_and_default_caps_install(admin_api, engine, name):
    compose = f"""
services:
  web:
    image: {HTTPD}
    volumes: ["{app_data_folder(name)}/site:/site"]
    cap_add: [CHOWN, NET_RAW, NET_BIND_SERVICE]
    security_opt: ["no-new-privileges:true"]
    sysctls: {{net.ipv4.ip_unprivileged_port_start: "0"}}
  side:
    image: {BUSYBOX}
    pid: "service:web"
    network_mode: "service:web"
    volumes: ["cache:/cache"]
volumes:
  cache:
    driver_opts: {{type: tmpfs, device: tmpfs, o: "size=16m"}}
"""
    answer = install(admin_api, compose, name)
    assert answer.status_code == 202, answer.text
    running(admin_api, answer.json()["id"])
    web = engine.container_config(f"{name}-web-1")
    side = engine.container_config(f"{name}-side-1")
    assert any(m["Source"] == f"{app_data_folder(name)}/site" for m in web["Mounts"])
    assert Path(app_data_folder(name), "site").is_dir()  # created: it is the app's own folder
    assert side["HostConfig"]["PidMode"] == f"container:{web['Id']}" or side["HostConfig"]["PidMode"].endswith(
        f"{name}-web-1"
    )
    inst = Installation.objects.get(name=name)
    assert inst.consents[-1]["items"] == [] and inst.consents[-1]["by"] == "admin"
