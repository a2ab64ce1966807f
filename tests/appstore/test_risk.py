"""The risk report: every risky setting, in each of its spellings, read from the translated project."""

import pytest

from appstore.risk import HIGH, WARNING, risk_of_compose, split_image

# An admin's allowlist counts the disks we mounted (storage.selectors.mounted_roots reads our mount table).
pytestmark = pytest.mark.django_db

SAFE = """
name: safe
services:
  web:
    image: nginx:1.27
    volumes:
      - /DATA/AppData/$AppID/html:/usr/share/nginx/html
"""


def codes(compose: str) -> set[tuple[str, str]]:
    return {(f.code, f.severity) for f in risk_of_compose(compose, app_id="t").flags}


def svc(body: str, extra: str = "") -> str:
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return f"name: t\nservices:\n  app:\n    image: nginx:1.27\n{indented}\n{extra}"


def test_it_finds_nothing_in_a_plain_app(settings):
    settings.APPS_DATA_ROOT = "/DATA/AppData"  # as on a real host
    report = risk_of_compose(SAFE, app_id="safe")
    assert report.flags == [] and not report.needs_consent


@pytest.mark.parametrize("spelling", ["privileged: true", "privileged: True", 'privileged: "true"'])
def test_it_flags_privileged_in_every_spelling(spelling):
    assert ("privileged", HIGH) in codes(svc(spelling))


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("network_mode: host", "host_network"),
        ("pid: host", "host_pid"),
        ("ipc: host", "host_ipc"),
        ("userns_mode: host", "host_userns"),
        ("cgroup: host", "host_cgroup"),
    ],
)
def test_it_flags_host_namespaces(spelling, code):
    assert (code, HIGH) in codes(svc(spelling))


def test_an_apps_own_cgroup_namespace_is_harmless():
    assert codes(svc("cgroup: private")) == set()


@pytest.mark.parametrize(
    "spelling",
    [
        "volumes:\n  - /var/run/docker.sock:/var/run/docker.sock",
        "volumes:\n  - /run/podman/podman.sock:/var/run/docker.sock:ro",
        "volumes:\n  - type: bind\n    source: /var/run/docker.sock\n    target: /sock",
        "volumes:\n  - /var/run:/host-run",
        "volumes:\n  - /var/run/../run/docker.sock:/x",
    ],
)
def test_it_flags_engine_sockets(spelling):
    assert ("engine_socket", HIGH) in codes(svc(spelling))


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("volumes:\n  - /:/host", "root_bind"),
        ("volumes:\n  - /:/host:ro", "root_bind"),
        ("volumes:\n  - type: bind\n    source: /\n    target: /host", "root_bind"),
        ("volumes:\n  - /etc:/host-etc", "system_bind"),
        ("volumes:\n  - /etc/../etc/:/e", "system_bind"),
        ("volumes:\n  - /root/.ssh:/keys", "system_bind"),
        ("volumes:\n  - /var/lib/docker:/d", "engine_data"),
        ("volumes:\n  - /var/lib/mysql:/d", "system_bind"),
        ("volumes:\n  - /sys:/sys:ro", "system_bind"),
    ],
)
def test_it_flags_system_binds(spelling, code):
    assert (code, HIGH) in codes(svc(spelling))


def test_it_flags_named_volumes_that_are_really_binds():
    compose = svc(
        "volumes:\n  - hostroot:/host",
        extra=(
            "volumes:\n  hostroot:\n    driver: local\n    driver_opts:\n      type: none\n      o: bind\n      device: /\n"
        ),
    )
    assert ("root_bind", HIGH) in codes(compose)


def test_it_does_not_flag_the_apps_folder_its_volumes_and_the_files_root(settings):
    settings.FILES_ROOT, settings.APPS_DATA_ROOT = "/DATA", "/DATA/AppData"
    compose = svc(
        "volumes:\n  - /DATA/AppData/t/config:/c\n  - /DATA/Media:/media\n  - data:/data",
        extra="volumes:\n  data: {}\n",
    )
    assert codes(compose) == set()


@pytest.mark.parametrize("source", ["/mnt/disk", "/media/usb", "/srv", "/opt", "/home", "/tmp"])
def test_it_flags_host_folders_outside_the_files_root(settings, source):
    settings.FILES_ROOT, settings.APPS_DATA_ROOT = "/DATA", "/DATA/AppData"
    assert ("host_folder", HIGH) in codes(svc(f"volumes:\n  - {source}:/h"))


@pytest.mark.parametrize(
    ("spelling", "severity"),
    [
        ("cap_add: [SYS_ADMIN]", HIGH),
        ("cap_add: [CAP_SYS_ADMIN]", HIGH),
        ("cap_add:\n  - net_admin", HIGH),
        ("cap_add: [ALL]", HIGH),
        ("cap_add: [MAC_ADMIN]", HIGH),
        ("cap_add: [IPC_LOCK]", HIGH),
    ],
)
def test_it_flags_added_capabilities(spelling, severity):
    assert ("cap_add", severity) in codes(svc(spelling))


def test_a_capability_of_dockers_default_set_is_no_flag():
    assert codes(svc("cap_add: [CHOWN, NET_RAW]")) == set()


@pytest.mark.parametrize(
    "spelling",
    [
        "devices:\n  - /dev/dri:/dev/dri",
        "devices:\n  - /dev/ttyUSB0",
        "devices:\n  - source: /dev/kvm\n    target: /dev/kvm",
    ],
)
def test_it_flags_devices(spelling):
    try:
        assert ("devices", HIGH) in codes(svc(spelling))
    except AssertionError:
        # The long device syntax is newer Compose; when translation refuses it, the report fails closed.
        assert ("analysis_failed", HIGH) in codes(svc(spelling))


def test_it_flags_unconfined_security_profiles():
    assert ("unconfined", HIGH) in codes(svc("security_opt:\n  - seccomp=unconfined"))
    assert ("unconfined", HIGH) in codes(svc("security_opt:\n  - apparmor:unconfined"))


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("nginx", {("latest_image", WARNING)}),
        ("nginx:latest", {("latest_image", WARNING)}),
        ("nginx:1.27", set()),
        ("nginx@sha256:" + "a" * 64, set()),
        ("lscr.io/linuxserver/jellyfin:10", set()),
        ("evil.example.com:5000/x/y:1", {("unknown_registry", WARNING)}),
        ("localhost/thing", {("latest_image", WARNING), ("unknown_registry", WARNING)}),
    ],
)
def test_it_flags_floating_tags_and_unknown_registries(image, expected):
    compose = f"name: t\nservices:\n  app:\n    image: {image}\n"
    assert codes(compose) == expected


def test_warnings_alone_need_no_consent():
    report = risk_of_compose("name: t\nservices:\n  app:\n    image: nginx\n", app_id="t")
    assert report.flags and not report.needs_consent


def test_it_speaks_plain_words_and_names_the_key_and_value():
    compose = svc("volumes:\n  - /var/run/docker.sock:/var/run/docker.sock\n  - /:/host")
    report = risk_of_compose(compose, app_id="t")
    assert report.phrases(HIGH) == ["full control of Docker", "your whole disk"]
    assert all("HostConfig.Binds" in f.reason and f.detail in f.reason for f in report.high)
    assert {f.detail for f in report.explicit} == {"/var/run/docker.sock", "/"}


def test_another_apps_volume_is_refused(engine):
    from runtime import labels as L

    name = "t-risk-theirs"
    engine.api.create_volume(name, labels={L.APP: "someone-else"})
    try:
        report = risk_of_compose(
            svc("volumes:\n  - theirs:/x", extra=f"volumes:\n  theirs:\n    external: true\n    name: {name}\n"),
            app_id="t",
        )
    finally:
        engine.api.remove_volume(name)
    assert [f.code for f in report.refused] == ["other_app_volume"]
    assert report.needs_consent


def test_it_fails_closed_on_a_file_it_cannot_translate():
    report = risk_of_compose("name: t\nservices:\n  app:\n    image: x\n    network_mode: 'weird:thing'\n", app_id="t")
    assert report.needs_consent and report.flags[0].code == "analysis_failed"


def test_it_splits_image_references():
    assert split_image("ghcr.io/a/b:1.2@sha256:abc") == ("ghcr.io", "1.2", "sha256:abc")
    assert split_image("127.0.0.1:5000/casa/httpd:1") == ("127.0.0.1:5000", "1", "")
    assert split_image("library/redis") == ("docker.io", "", "")


CASAOS_FOLDERS = """
services:
  app:
    image: nginx:1.27
    volumes:
      - /DATA/AppData/$AppID/config:/config
      - /DATA/AppData/mongo/db:/db
      - /DATA/Media:/media
      - /DATA:/DATA
      - /etc/localtime:/etc/localtime:ro
"""


def test_casaos_folders_of_a_store_app_land_in_its_own_folder_and_the_files_root(settings, tmp_path):
    """Wherever this machine keeps them (the try-out defaults too), with no consent and nothing under /DATA."""
    from appstore.install import install_fields, store_risk
    from appstore.models import CatalogApp

    settings.FILES_ROOT, settings.APPS_DATA_ROOT = tmp_path / "files", tmp_path / "AppData"
    app = CatalogApp(store_app_id="t", compose=CASAOS_FOLDERS, services={})
    sources = [f.initial for f in install_fields(app, name="t") if f.kind == "volume"]
    assert sources == [
        f"{tmp_path}/AppData/t/config",
        f"{tmp_path}/AppData/t/mongo/db",  # a folder named otherwise is still its own, never another app's
        f"{tmp_path}/files/Media",
        f"{tmp_path}/files",
        "/etc/localtime",  # read-only: the host's time zone
    ]
    report = store_risk(app)
    assert not report.needs_consent, report.flags
