"""No request is a 5xx: every route of the URL resolver gets OPTIONS, every verb, malformed ids and malformed bodies,
as each role. A server error is a bug an attacker can find; the answer to bad input is a 4xx that says why."""

import re

import pytest
from django.test import Client
from django.urls import URLPattern

from accounts.permissions import STEPUP_SESSION_KEY
from tests.accounts.test_permission_table import all_routes
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.docker]

METHODS = ("OPTIONS", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# Values for every URL parameter that is not an int: what a fuzzer sends to `{id}` and `{name}`.
MALFORMED_IDS = ("null,null", "-1", "a" * 300, "ï¿½%00")
BODIES = (
    ("application/json", b"{not json"),
    ("application/json", b'["a", 1, null]'),
    ("application/json", b'{"name": {"x": [1]}, "path": 7, "paths": "a", "id": "x", "compose": 5, "scope": []}'),
    ("application/x-www-form-urlencoded", b"name=%ff%fe&path=..%2f..%2f&paths=&id=-1"),
)
# Answers that are not a server fault: 503 is health reporting a service down, or the engine that did not answer.
ALLOWED_5XX = {503}


def _urls(pattern: URLPattern, route: str) -> list[str]:
    """The route with each parameter filled with every malformed value (ints get a huge and a zero id)."""
    parts = re.split(r"(<[^>]+>|\(\?P<[^>]+>[^)]*\))", route.replace("^", "").replace("$", ""))
    params = [p for p in parts if p.startswith(("<", "(?P"))]
    if not params:
        return ["/" + route.replace("^", "").replace("$", "")]
    urls = []
    for value_index in range(len(MALFORMED_IDS)):
        filled = []
        for part in parts:
            if part.startswith("<int:"):
                filled.append("99999999999999999999" if value_index % 2 else "0")
            elif part.startswith(("<", "(?P")):
                filled.append(MALFORMED_IDS[value_index])
            else:
                filled.append(part)
        urls.append("/" + "".join(filled))
    return list(dict.fromkeys(urls))


@pytest.fixture(scope="module")
def routes():
    return [(key, route) for key, pattern, route in all_routes() for route in _urls(pattern, route)]


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
        session = client.session
        session[STEPUP_SESSION_KEY] = 9e12
        session.save()
    return client


@pytest.mark.parametrize("role", ["anonymous", "member", "admin"])
def test_no_route_answers_a_server_error_to_malformed_requests(role, routes, engine):
    user = None if role == "anonymous" else UserFactory(username=f"fuzz-{role}", admin=role == "admin")
    client = _client(user)
    errors: dict[str, str] = {}  # one line per route and verb, with its first failing request
    for key, url in routes:
        if key in ("logout", "admin:logout"):
            continue  # would end the session the rest of the walk uses; its own tests cover it
        for method in METHODS:
            bodies = BODIES if method in ("POST", "PUT", "PATCH") else ((None, b""),)
            for content_type, body in bodies:
                kwargs = {"data": body, "content_type": content_type} if content_type else {}
                response = client.generic(method, url, **kwargs)
                if response.status_code >= 500 and response.status_code not in ALLOWED_5XX:
                    errors.setdefault(f"{method} {key}", f"{url[:60]} {content_type or ''}: {response.status_code}")
    assert not errors, f"server errors as {role}:\n" + "\n".join(f"{k}: {v}" for k, v in sorted(errors.items()))
