"""Bounds on one app: the image reference grammar, the service count, requests against the host, and the default
process limit in the engine payload (runtime only; the API and the engine are attacked in tests/attacks)."""

import pytest

from runtime import HostResources
from runtime.compose import ComposeError, load_project, load_yaml
from runtime.compose.limits import MAX_SERVICES, PIDS_MAX, clamp_tree, resource_problems, size_text
from runtime.images import image_reference_problem
from runtime.payload import DEFAULT_PIDS_LIMIT, create_body

GIB = 1024**3
HOST = HostResources(memory=8 * GIB, cpus=4, swap=2 * GIB)
DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "ref",
    [
        "nginx",
        "nginx:1.25",
        "library/nginx:latest",
        "ghcr.io/linuxserver/jellyfin:10.8.13",
        "127.0.0.1:5000/casa/httpd:1",
        "localhost/app",
        "localhost:5000/a/b_c/d__e/f-g",
        "Registry.Example.com/team/app",
        "[::1]:5000/app",
        f"nginx@{DIGEST}",
        f"nginx:1.25@{DIGEST}",
        "a" * 255,
        "nginx:" + "t" * 128,
    ],
)
def test_it_accepts_what_the_reference_grammar_accepts(ref):
    assert image_reference_problem(ref) == ""


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        ("nginx; id", "repository name"),
        ("--help", "repository name"),
        ("nginx\n", "repository name"),
        ("nginx\nid", "repository name"),
        ("x" * 10_240, "longer than 255"),
        ("a" * 256, "longer than 255"),
        ("Nginx", "must be lowercase"),
        ("team/Nginx:1", "must be lowercase"),
        ("nginx:", "tag"),
        ("nginx:-x", "tag"),
        ("nginx:" + "t" * 129, "tag"),
        ("nginx@sha256:abc", "digest"),
        ("nginx@sha256:" + "0" * 63, "digest"),
        ("bad_host:5000x/app", "registry host"),
        ("a//b", "repository name"),
        ("a/", "repository name"),
        ("", "empty"),
        ("ngin x", "repository name"),
        ("$(id)", "repository name"),
        ("nginx:1 --privileged", "tag"),
        ("nginx:\uff11", "tag"),  # a full-width digit is not an ASCII word character
    ],
)
def test_it_refuses_what_the_grammar_does_not_allow(ref, why):
    assert why in image_reference_problem(ref)


def test_a_bad_image_names_its_service_and_is_not_echoed_whole():
    with pytest.raises(ComposeError) as refused:
        load_project(f"services:\n  web:\n    image: '{'x' * 10_240}'\n", variables={}, project_name="app")
    assert refused.value.path == "services.web.image" and len(str(refused.value)) < 200
    with pytest.raises(ComposeError, match=r"services\.db\.image: 'nginx\\\\n; id'"):
        load_project('services:\n  db:\n    image: "nginx\\n; id"\n', variables={}, project_name="app")


def test_an_image_waiting_for_a_required_value_is_checked_once_it_has_it():
    text = "services:\n  web:\n    image: nginx:${TAG:?the tag}\n"
    assert load_project(text, variables={}, project_name="app", collect_required=True).images == ("nginx:",)
    with pytest.raises(ComposeError, match="tag"):
        load_project(text, variables={"TAG": "-bad"}, project_name="app")


def test_it_bounds_the_services_of_one_app():
    many = "services:\n" + "".join(f"  s{i}: {{image: busybox}}\n" for i in range(MAX_SERVICES + 1))
    with pytest.raises(ComposeError, match=f"at most {MAX_SERVICES} services; this one has {MAX_SERVICES + 1}"):
        load_project(many, variables={}, project_name="app")
    enough = "services:\n" + "".join(f"  s{i}: {{image: busybox}}\n" for i in range(MAX_SERVICES))
    assert len(load_project(enough, variables={}, project_name="app").containers) == MAX_SERVICES


def _problems(service: str) -> list[tuple[str, float]]:
    project = load_project("services:\n  web:\n    image: busybox\n" + service, variables={}, project_name="app")
    return [(p.key, p.asked) for p in resource_problems(project, HOST)]


def test_requests_above_the_host_are_problems_and_those_within_are_not():
    assert _problems("    mem_limit: 1t\n") == [("mem_limit", 1024**4)]
    assert _problems("    deploy: {resources: {limits: {memory: 9g, cpus: '4.5', pids: -1}}}\n") == [
        ("mem_limit", 9 * GIB),
        ("cpus", 4.5),
        ("pids_limit", -1),
    ]
    assert _problems("    mem_reservation: 9g\n    memswap_limit: 11g\n    shm_size: 100g\n") == [
        ("mem_reservation", 9 * GIB),
        ("memswap_limit", 11 * GIB),
        ("shm_size", 100 * GIB),
    ]
    assert _problems("    pids_limit: 0\n") == [("pids_limit", 0)]
    assert _problems(f"    pids_limit: {PIDS_MAX + 1}\n") == [("pids_limit", PIDS_MAX + 1)]
    within = "    mem_limit: 8g\n    memswap_limit: 10g\n    shm_size: 4g\n    cpus: 4\n    pids_limit: 32768\n"
    assert _problems(within) == []
    assert _problems("    memswap_limit: -1\n") == []  # unlimited swap: bounded by the swap there is


def test_the_message_says_what_was_asked_and_what_the_host_has():
    project = load_project("services:\n  db:\n    image: busybox\n    mem_limit: 1t\n", variables={}, project_name="a")
    (problem,) = resource_problems(project, HOST)
    assert str(problem) == "services.db.mem_limit: 1 TiB is more than this machine's memory (8 GiB)"
    assert size_text(23.5 * GIB) == "23.5 GiB" and size_text(512) == "512 B"


def test_clamping_lowers_every_spelling_to_what_the_host_has():
    text = (
        "services:\n  web:\n    image: busybox\n    mem_limit: 1t\n    shm_size: 100g\n    pids_limit: -1\n"
        "    deploy: {resources: {limits: {memory: '${MEM:-2t}', cpus: 64}}}\n  db:\n    image: busybox\n"
        "    mem_limit: 1g\n"
    )
    project = load_project(text, variables={}, project_name="app")
    tree = clamp_tree(load_yaml(text), resource_problems(project, HOST))
    web, db = tree["services"]["web"], tree["services"]["db"]
    assert (web["mem_limit"], web["deploy"]["resources"]["limits"]["memory"]) == (8 * GIB, 8 * GIB)
    assert (web["shm_size"], web["pids_limit"], web["deploy"]["resources"]["limits"]["cpus"]) == (4 * GIB, PIDS_MAX, 4)
    assert db["mem_limit"] == "1g"  # within the host: as written
    import yaml

    again = load_project(yaml.safe_dump(tree), variables={}, project_name="app")
    assert resource_problems(again, HOST) == []


def test_the_payload_applies_the_default_process_limit_only_where_none_is_set():
    project = load_project(
        "services:\n  a:\n    image: busybox\n  b:\n    image: busybox\n    pids_limit: 100\n",
        variables={},
        project_name="app",
    )
    a, b = project.container("a"), project.container("b")
    assert create_body(a, default_pids_limit=DEFAULT_PIDS_LIMIT)["HostConfig"]["PidsLimit"] == 4096
    assert create_body(b, default_pids_limit=DEFAULT_PIDS_LIMIT)["HostConfig"]["PidsLimit"] == 100
    assert "PidsLimit" not in create_body(a, default_pids_limit=0)["HostConfig"]  # 0: the engine's default
    assert "PidsLimit" not in create_body(a)["HostConfig"]
