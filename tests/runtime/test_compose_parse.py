"""YAML loading and interpolation of compose files."""

from __future__ import annotations

import pytest

from runtime.compose import interpolate, load_project, load_yaml
from runtime.errors import ComposeError


def test_it_expands_anchors_and_merge_keys_with_crlf():
    text = (
        "x-base: &base\r\n  restart: always\r\n  environment: {A: '1'}\r\nservices:\r\n  web:\r\n"
        "    <<: *base\r\n    image: nginx\r\n    restart: unless-stopped\r\n"
    )
    tree = load_yaml(text)
    assert tree["services"]["web"] == {"restart": "unless-stopped", "environment": {"A": "1"}, "image": "nginx"}


def test_it_keeps_yaml_12_scalars_as_compose_does():
    tree = load_yaml("a: [22:22, yes, off, 0o755, 010, true, 1.5]")
    assert tree["a"] == ["22:22", "yes", "off", 0o755, 10, True, 1.5]


def test_it_rejects_duplicate_keys_and_non_mappings():
    with pytest.raises(ComposeError, match="duplicate key 'image'"):
        load_yaml("services:\n  web:\n    image: a\n    image: b\n")
    with pytest.raises(ComposeError):
        load_yaml("- just\n- a list\n")
    with pytest.raises(ComposeError, match="invalid YAML"):
        load_yaml("services: [unclosed\n")


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("$V", "val"),
        ("${V}", "val"),
        ("a${V}b", "avalb"),
        ("$$V", "$V"),
        ("$$$V", "$val"),
        ("${E:-d}", "d"),
        ("${E-d}", ""),
        ("${U:-d}", "d"),
        ("${U-d}", "d"),
        ("${V:-d}", "val"),
        ("${V:+alt}", "alt"),
        ("${E:+alt}", ""),
        ("${E+alt}", "alt"),
        ("${U+alt}", ""),
        ("${U:-${V}}", "val"),
        ("${U:-a-$V}", "a-val"),
        ("price $5", "price $5"),
        ("make -j$(nproc)", "make -j$(nproc)"),
        ("$U", ""),
    ],
)
def test_it_interpolates_like_the_compose_spec(template, expected):
    assert interpolate(template, {"V": "val", "E": ""}) == expected


def test_it_raises_for_required_variables():
    with pytest.raises(ComposeError, match="need a token"):
        interpolate("${TOKEN:?need a token}", {"TOKEN": ""})
    with pytest.raises(ComposeError, match="TOKEN"):
        interpolate("${TOKEN?}", {})
    assert interpolate("${TOKEN?x}", {"TOKEN": ""}) == ""
    with pytest.raises(ComposeError, match="unterminated"):
        interpolate("${V", {})
    with pytest.raises(ComposeError, match="invalid variable"):
        interpolate("${1X}", {})


def test_it_never_reads_the_process_environment(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "do-not-leak")
    text = "services:\n  web:\n    image: nginx\n    environment:\n      - LEAK=$SECRET_KEY\n      - SECRET_KEY\n"
    project = load_project(text, variables={}, project_name="leak")
    assert project.container("web").env == {"LEAK": ""}
    assert project.missing_variables == ("SECRET_KEY",)


def test_it_interpolates_values_but_not_keys():
    text = "name: $AppID\nservices:\n  web:\n    image: nginx:$TAG\n    labels: {$AppID: x}\n"
    project = load_project(text, variables={"AppID": "demo", "TAG": "1.25"})
    assert project.name == "demo" and project.images == ("nginx:1.25",)
    assert project.container("web").labels["$AppID"] == "x"


def test_it_refuses_an_alias_bomb_before_expanding_it():
    from tests.attacks.payloads import LAUGHS

    with pytest.raises(ComposeError, match="100,000 values once its aliases are expanded"):
        load_yaml(LAUGHS + "services: {web: {image: busybox}}\n")


def test_it_counts_aliases_at_their_expanded_size_but_accepts_real_reuse():
    shared = "x-env: &env {" + ", ".join(f"K{i}: v" for i in range(50)) + "}\n"
    services = "".join(f"  s{i}: {{image: busybox, environment: *env}}\n" for i in range(100))
    tree = load_yaml(shared + "services:\n" + services)
    assert len(tree["services"]) == 100 and tree["services"]["s99"]["environment"]["K49"] == "v"


@pytest.mark.parametrize("depth", [65, 900])
def test_it_refuses_nesting_deeper_than_any_compose_file(depth):
    with pytest.raises(ComposeError, match="nested deeper than 64"):
        load_yaml("services: {web: {image: busybox, labels: " + "[" * depth + "]" * depth + "}}\n")


def test_a_missing_required_variable_names_itself():
    from runtime.compose import MissingVariable

    with pytest.raises(MissingVariable, match="need a token") as caught:
        interpolate("${TOKEN:?need a token}", {})
    assert caught.value.name == "TOKEN"


def test_it_collects_required_variables_instead_of_failing_when_asked():
    from runtime.compose import RequiredVariable, required_variables

    text = (
        "services:\n  web:\n    image: nginx:${TAG:?the image tag}\n"
        "    environment:\n      PASSWORD: ${PASSWORD:?Set an admin password}\n      MAYBE: ${MAYBE?}\n"
        "      GIVEN: ${GIVEN:?never asked}\n"
    )
    project = load_project(text, variables={"GIVEN": "x"}, project_name="demo", collect_required=True)
    assert project.required_variables == (
        RequiredVariable("TAG", "the image tag"),
        RequiredVariable("PASSWORD", "Set an admin password"),
        RequiredVariable("MAYBE", "", allow_empty=True),
    )
    assert project.images == ("nginx:",) and project.container("web").env["PASSWORD"] == ""
    assert required_variables(text, {"GIVEN": "x"}) == project.required_variables
    with pytest.raises(ComposeError, match="the image tag"):
        load_project(text, variables={"GIVEN": "x"}, project_name="demo")
    filled = load_project(text, variables={"TAG": "1", "PASSWORD": "p", "MAYBE": "", "GIVEN": "x"}, project_name="demo")
    assert filled.images == ("nginx:1",) and filled.required_variables == ()


@pytest.mark.parametrize(
    ("text", "line", "column", "source"),
    [
        ("services:\n  web:\n    image: nginx: latest\n", 3, 17, "    image: nginx: latest"),  # scanner (libyaml)
        ("services:\n  web:\n    image: a\n   ports: [80]\n", 4, 4, "   ports: [80]"),  # parser
        ("services:\n  web:\n    image: a\n    image: b\n", 4, 5, "    image: b"),  # duplicate key (constructor)
        ("services:\r\n  web:\r\n\timage: a\r\n", 3, 1, "\timage: a"),  # a tab, with CRLF line ends
    ],
)
def test_a_yaml_error_names_its_line_column_and_the_line_itself(text, line, column, source):
    with pytest.raises(ComposeError) as raised:
        load_yaml(text)
    error = raised.value
    assert (error.line, error.column, error.source_line) == (line, column, source)
    assert f"line {line}, column {column}" in str(error) and repr(source) in str(error)


def test_a_yaml_error_at_the_end_of_the_document_still_names_a_line():
    with pytest.raises(ComposeError) as raised:
        load_yaml("services:\n  web: [unclosed\n")
    assert raised.value.line >= 2 and "line" in str(raised.value) and "[unclosed" in raised.value.source_line
