"""The container policy: an allowlist over the final engine payloads, whatever syntax the compose file used."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.compose import load_project
from runtime.payload import create_body
from runtime.policy import HOST_ACCESS, REFUSED, Context, allowed, check_project, uncovered
from runtime.policy.container import HOST_RULES, SAFE_HOST, SAFE_TOP, TOP_RULES
from runtime.policy.values import DOCKER_DEFAULT_CAPS
from runtime.specs import ContainerSpec


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    """An app `t` with its folder under an apps root inside our data dir, and one writable files root."""
    data = tmp_path / "casaos"
    (data / "AppData" / "t").mkdir(parents=True)
    (tmp_path / "files").mkdir()
    return Context(
        app="t",
        app_data=str(data / "AppData" / "t"),
        apps_root=str(data / "AppData"),
        writable_roots=(str(tmp_path / "files"),),
        protected=(
            ("casaos_data", str(data)),
            ("casaos_code", "/opt/casaos-code"),
            ("engine_data", "/var/lib/docker"),
            ("engine_socket", "/var/run/docker.sock"),
        ),
        excluded=("/etc", "/usr"),
        volume_owners={"other_data": "other", "loose": ""},
        ulimits={"nofile": 65536, "memlock": 8388608},
    )


def findings(ctx: Context, service: str, extra: str = ""):
    body = "\n".join("    " + line for line in service.strip().splitlines())
    text = f"services:\n  app:\n    image: busybox\n{body}\n  side:\n    image: busybox\n{extra}"
    return check_project(load_project(text, variables={}, project_name="t"), ctx)


def summary(found) -> set[tuple[str, str, str]]:
    return {(f.level, f.code, f.value) for f in found}


def test_a_plain_app_passes(ctx):
    assert findings(ctx, "ports: ['8080:80']\ncap_drop: [ALL]\nread_only: true") == []


# ---------------------------------------------------------------------------- host paths
def test_the_apps_own_folder_and_writable_roots_need_nothing(ctx, tmp_path):
    volumes = f"volumes:\n  - {ctx.app_data}/config:/config\n  - {tmp_path}/files/media:/media:ro"
    assert findings(ctx, volumes) == []


@pytest.mark.parametrize("source", ["/var", "/var/lib/docker", "/var/lib/docker/volumes/x/_data"])
def test_the_engines_data_must_be_named(ctx, source):
    (finding,) = findings(ctx, f"volumes: ['{source}:/h']")
    assert (finding.level, finding.code, finding.explicit) == (HOST_ACCESS, "engine_data", True)
    assert source in finding.reason and "HostConfig.Binds" in finding.reason


@pytest.mark.parametrize("source", ["/var/run/docker.sock", "/run", "/var/run", "/var/run/../run/docker.sock"])
def test_the_engine_socket_and_its_folders_must_be_named(ctx, source):
    codes = {(f.code, f.explicit) for f in findings(ctx, f"volumes: ['{source}:/s']")}
    assert ("engine_socket", True) in codes


def test_our_data_dir_must_be_named_but_not_the_apps_folder_inside_it(ctx, tmp_path):
    (secret,) = findings(ctx, f"volumes: ['{tmp_path}/casaos/secret_key:/k:ro']")
    assert (secret.code, secret.explicit) == ("casaos_data", True)
    (parent,) = findings(ctx, f"volumes: ['{tmp_path}:/all']")  # contains our data: the same
    assert (parent.code, parent.explicit) == ("casaos_data", True)
    (other,) = findings(ctx, f"volumes: ['{tmp_path}/casaos/AppData/other:/o']")
    assert (other.code, other.explicit) == ("other_app_folder", False)


@pytest.mark.parametrize(
    ("source", "code"), [("/srv", "host_folder"), ("/home", "host_folder"), ("/etc", "system_bind")]
)
def test_other_host_folders_are_host_access(ctx, source, code):
    assert summary(findings(ctx, f"volumes: ['{source}:/h']")) == {(HOST_ACCESS, code, source)}


def test_the_time_zone_may_be_read_but_not_written(ctx):
    short = "volumes: ['/etc/localtime:/etc/localtime:ro']"
    long = "volumes:\n  - {type: bind, source: /etc/timezone, target: /etc/timezone, read_only: true}"
    assert findings(ctx, short) == findings(ctx, long) == []
    written = "volumes: ['/etc/timezone:/etc/timezone']"
    assert summary(findings(ctx, written)) == {(HOST_ACCESS, "system_bind", "/etc/timezone")}
    assert findings(ctx, "volumes: ['/etc/passwd:/p:ro']")  # only those two files


def test_the_whole_disk_must_be_named(ctx):
    (finding,) = findings(ctx, "volumes: ['/:/host:ro']")
    assert (finding.code, finding.explicit) == ("root_bind", True)


def test_a_symlink_out_of_the_apps_folder_is_followed(ctx):
    Path(ctx.app_data, "escape").symlink_to("/etc")
    assert summary(findings(ctx, f"volumes: ['{ctx.app_data}/escape:/e']")) == {
        (HOST_ACCESS, "system_bind", f"{ctx.app_data}/escape")
    }


def test_a_lookalike_prefix_is_not_inside(ctx):
    assert not allowed(ctx.app_data + "-evil", ctx)
    assert allowed(ctx.app_data + "/ok", ctx)


def test_long_syntax_and_bind_like_volumes_are_checked_alike(ctx):
    long = "volumes:\n  - type: bind\n    source: /var\n    target: /h"
    named = "volumes: ['host:/h']"
    extra = "volumes:\n  host:\n    driver_opts: {type: none, o: bind, device: /var}\n"
    assert {f.code for f in findings(ctx, long)} == {f.code for f in findings(ctx, named, extra)} == {"engine_data"}


def test_shared_propagation_is_host_access(ctx):
    found = findings(ctx, f"volumes: ['{ctx.app_data}:/d:rshared']")
    assert summary(found) == {(HOST_ACCESS, "mount_option", "rshared")}


def test_a_bind_that_cannot_be_read_one_way_is_refused(ctx):
    spec = ContainerSpec(name="t-app-1", image="busybox", service="app")
    body = create_body(spec)
    body["HostConfig"]["Binds"] = ["/a:/b:/c:ro"]
    from runtime.policy.container import container_findings

    assert {f.level for f in container_findings(body, ctx, "app")} == {REFUSED}


# ---------------------------------------------------------------------------- namespaces
@pytest.mark.parametrize("key", ["pid", "ipc", "network_mode", "userns_mode", "cgroup"])
def test_host_namespaces_are_host_access(ctx, key):
    assert {f.level for f in findings(ctx, f"{key}: host")} == {HOST_ACCESS}


@pytest.mark.parametrize("key", ["pid", "ipc", "network_mode"])
def test_joining_another_apps_container_is_host_access(ctx, key):
    assert summary(findings(ctx, f"{key}: 'container:other-web-1'")) == {
        (HOST_ACCESS, "other_container", "container:other-web-1")
    }


@pytest.mark.parametrize("value", ["service:side", "container:t-side-1"])
def test_sharing_with_a_service_of_the_same_app_is_allowed(ctx, value):
    assert findings(ctx, f"network_mode: '{value}'\npid: 'container:t-side-1'\nipc: 'container:t-side-1'") == []


@pytest.mark.parametrize("value", ["ipc: private", "ipc: shareable", "cgroup: private", "network_mode: bridge"])
def test_own_namespaces_are_allowed(ctx, value):
    assert findings(ctx, value) == []


# ---------------------------------------------------------------------------- volumes and networks
@pytest.mark.parametrize(
    "opts",
    [
        "{type: ext4, device: /dev/sda1}",
        "{type: nfs, o: 'addr=10.0.0.2,rw', device: ':/export'}",
        "{type: cifs, o: 'username=x', device: '//nas/share'}",
    ],
)
def test_volumes_with_driver_options_are_host_access(ctx, opts):
    extra = f"volumes:\n  data:\n    driver_opts: {opts}\n"
    assert {(f.level, f.code) for f in findings(ctx, "volumes: ['data:/d']", extra)} == {(HOST_ACCESS, "volume_driver")}


def test_a_shares_password_is_not_repeated(ctx):
    extra = "volumes:\n  s:\n    driver_opts: {type: cifs, o: 'username=u,password=hunter2', device: '//h/s'}\n"
    (finding,) = findings(ctx, "volumes: ['s:/s']", extra)
    assert "hunter2" not in finding.value + finding.reason and "password=***" in finding.value


def test_a_ram_volume_is_allowed(ctx):
    extra = "volumes:\n  cache:\n    driver_opts: {type: tmpfs, device: tmpfs, o: 'size=64m,uid=1000'}\n"
    assert findings(ctx, "volumes: ['cache:/c']", extra) == []


def test_another_apps_volume_is_refused_and_a_loose_one_needs_consent(ctx):
    extra = "volumes:\n  theirs: {external: true, name: other_data}\n  loose: {external: true}\n"
    found = findings(ctx, "volumes: ['theirs:/a', 'loose:/b']", extra)
    assert summary(found) == {(REFUSED, "other_app_volume", "other_data"), (HOST_ACCESS, "foreign_volume", "loose")}


def test_a_network_driver_other_than_bridge_is_host_access(ctx):
    extra = "networks:\n  lan:\n    driver: macvlan\n    driver_opts: {parent: eth0}\n"
    found = findings(ctx, "networks: [lan]", extra)
    assert {(f.code, f.value) for f in found} == {("network_driver", "macvlan"), ("network_driver", "parent")}


# ---------------------------------------------------------------------------- privileges
@pytest.mark.parametrize("cap", [*sorted(DOCKER_DEFAULT_CAPS), "NET_BROADCAST", "cap_chown"])
def test_default_capabilities_are_allowed(ctx, cap):
    assert findings(ctx, f"cap_add: [{cap}]") == []


@pytest.mark.parametrize("cap", ["MAC_ADMIN", "SYSLOG", "LINUX_IMMUTABLE", "IPC_LOCK", "SYS_ADMIN", "NET_ADMIN", "ALL"])
def test_other_capabilities_are_host_access(ctx, cap):
    assert summary(findings(ctx, f"cap_add: [{cap}]")) == {(HOST_ACCESS, "cap_add", cap)}


@pytest.mark.parametrize(
    ("service", "code"),
    [
        ("privileged: true", "privileged"),
        ("cgroup_parent: /", "cgroup_parent"),
        ("security_opt: ['systempaths=unconfined']", "unconfined"),
        ("security_opt: ['no-new-privileges:false']", "unconfined"),
        ("security_opt: ['seccomp=unconfined']", "unconfined"),
        ("security_opt: ['apparmor:unconfined']", "unconfined"),
        ("security_opt: ['label=disable']", "unconfined"),
        ("oom_score_adj: -500", "oom_score_adj"),
        ("ulimits: {nofile: 1048576}", "ulimit"),
        ("ulimits: {memlock: -1}", "ulimit"),
        ("ulimits: {rtprio: 99}", "ulimit"),
        ("sysctls: {kernel.shmmax: '1'}", "sysctl"),
        ("sysctls: {kernel.core_pattern: '|/x'}", "sysctl"),
        ("devices: ['/dev/sda:/dev/sda']", "devices"),
        ("runtime: nvidia", "runtime"),
        ("logging: {driver: syslog}", "log_driver"),
    ],
)
def test_privilege_keys_are_host_access(ctx, service, code):
    assert {(f.level, f.code) for f in findings(ctx, service)} == {(HOST_ACCESS, code)}


@pytest.mark.parametrize(
    "service",
    [
        "security_opt: ['no-new-privileges:true', 'no-new-privileges']",
        "oom_score_adj: 500",
        "ulimits: {nofile: {soft: 1024, hard: 65536}}",
        "sysctls: {net.ipv4.ip_forward: '1', net.core.somaxconn: '1024'}",
        "logging: {driver: json-file, options: {max-size: 10m}}",
    ],
)
def test_harmless_values_of_privilege_keys_are_allowed(ctx, service):
    assert findings(ctx, service) == []


# ---------------------------------------------------------------------------- the allowlist itself
def test_every_key_the_payload_can_produce_has_a_rule():
    spec = ContainerSpec(name="x", image="busybox", privileged=True, cap_add=("X",), pids_limit=1, init=True)
    body = create_body(spec)
    assert set(body) <= SAFE_TOP | set(TOP_RULES) | {"HostConfig"}
    assert set(body["HostConfig"]) <= SAFE_HOST | set(HOST_RULES)


def test_an_unknown_key_never_slips_through(ctx):
    from runtime.policy.container import container_findings

    body = create_body(ContainerSpec(name="t-app-1", image="busybox", service="app"))
    body["HostConfig"]["VolumeDriver"] = "evil"
    body["Volumes"] = {"/x": {}}
    found = {(f.level, f.key) for f in container_findings(body, ctx, "app")}
    assert found == {(HOST_ACCESS, "HostConfig.VolumeDriver"), (REFUSED, "Volumes")}


def test_labels_of_another_app_are_refused(ctx):
    from runtime.policy.container import container_findings

    body = create_body(ContainerSpec(name="t-app-1", image="busybox", service="app", labels={"io.casaos.app": "x"}))
    assert {f.level for f in container_findings(body, ctx, "app")} == {REFUSED}


def test_consent_covers_host_access_but_never_a_refusal(ctx):
    extra = "volumes:\n  theirs: {external: true, name: other_data}\n"
    found = findings(ctx, "volumes: ['theirs:/a', '/srv:/t']", extra)
    assert [f.code for f in uncovered(found, {"host_folder:/srv"})] == ["other_app_volume"]
    assert [f.code for f in uncovered(found, {"*"})] == ["other_app_volume"]


def test_it_reads_the_hosts_limits_by_default(ctx):
    from dataclasses import replace

    assert findings(replace(ctx, ulimits=None), "ulimits: {nofile: 64}") == []
    assert findings(replace(ctx, ulimits=None), "ulimits: {nofile: 2147483647}") != []
