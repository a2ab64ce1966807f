"""Parsers are attack surface (SECURITY.md lesson 13): a few hundred bytes must not become gigabytes, and deep
nesting must not recurse; both are a 400 with the reason, on every path that parses, and the server stays well."""

import psutil
import pytest

from apps.models import Installation
from tests.attacks.payloads import LAUGHS

pytestmark = [pytest.mark.stack, pytest.mark.docker]

BOMB = LAUGHS + "services:\n  web:\n    image: busybox\n"
DEEP_YAML = "services:\n  web:\n    image: busybox\n    labels: " + "[" * 5000 + "]" * 5000 + "\n"
NESTED_100 = "services:\n  web:\n    image: busybox\n    labels: " + "[" * 100 + "]" * 100 + "\n"


def _web_rss(live_stack) -> int:
    web = next(p for p in live_stack.procs if "serve" in p.args)
    return psutil.Process(web.pid).memory_info().rss


@pytest.mark.parametrize(
    ("compose", "reason"), [(BOMB, "aliases are expanded"), (DEEP_YAML, "nesting depth"), (NESTED_100, "nested deeper")]
)
def test_a_compose_bomb_is_refused_with_the_reason(admin_api, live_stack, compose, reason):
    assert len(LAUGHS) < 400
    before = _web_rss(live_stack)
    for _ in range(5):
        answer = admin_api.post("/api/apps/", json={"name": "bomb", "compose": compose})
        assert answer.status_code == 400, answer.text
        assert reason in answer.text
    assert _web_rss(live_stack) - before < 50 * 1024**2
    assert not Installation.objects.exists()
    assert admin_api.get("/api/apps/").status_code == 200  # the server still answers others


def test_json_nested_a_thousand_deep_is_a_400(admin_api):
    body = '{"name": "x", "compose": ' + "[" * 1000 + "]" * 1000 + "}"
    answer = admin_api.post("/api/apps/", data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert "nested" in answer.text
