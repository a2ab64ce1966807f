"""No request is a 5xx: every route of the URL resolver gets OPTIONS, every verb, malformed ids and malformed bodies,
as each role. A server error is a bug an attacker can find; the answer to bad input is a 4xx that says why.

Each route gets every method with every malformed URL, and each write method gets every malformed body, but not
every URL with every body: the URL's i-th variant carries the i-th body (a route without parameters gets all the
bodies on its one URL). Every (route, method, URL class) and every (route, write method, body class) is still
sent; the full cross product was 64 requests per route and role (14,000 per role, 5 minutes in all). The member
skips the Django admin's model views but the users' (one guard refuses all of them alike, before any view runs)."""

import re

import pytest
from django.test import Client
from django.urls import URLPattern

from accounts.permissions import STEPUP_SESSION_KEY
from tests.accounts.test_permission_table import all_routes
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.docker]

METHODS = ("OPTIONS", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
WRITE_METHODS = ("POST", "PUT", "PATCH")
# Values for every URL parameter that is not an int: what a fuzzer sends to `{id}` and `{name}`.
MALFORMED_IDS = ("null,null", "-1", "a" * 300, "ï¿½%00")
BODIES = (
    ("application/json", b"{not json"),
    ("application/json", b'["a", 1, null]'),
    ("application/json", b'{"name": {"x": [1]}, "path": 7, "paths": "a", "id": "x", "compose": 5, "scope": []}'),
    ("application/x-www-form-urlencoded", b"name=%ff%fe&path=..%2f..%2f&paths=&id=-1"),
)
# The Django admin's model views: each is wrapped by AdminSite.admin_view, which sends a session without staff rights
# to the login before the view runs. The member tries one model's (the users'); the admin walks every model's.
ADMIN_MODEL_VIEW = re.compile(r"admin:(\w+?)_(\w+)_(changelist|add|history|delete|change)$|admin:(\w+)/(\w+)/<path")
MEMBER_ADMIN_MODEL = ("accounts_user_", "accounts/user/")
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
def routes() -> list[tuple[str, list[str]]]:
    return [(key, _urls(pattern, route)) for key, pattern, route in all_routes()]


def _requests(urls: list[str]):
    """(method, url, body) to send for one route: every method on every URL, every body on some URL."""
    for method in METHODS:
        if method not in WRITE_METHODS:
            yield from ((method, url, (None, b"")) for url in urls)
            continue
        for index, body in enumerate(BODIES):
            yield method, urls[index % len(urls)], body
        yield from ((method, url, BODIES[0]) for url in urls[len(BODIES) :])


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
        session = client.session
        session[STEPUP_SESSION_KEY] = 9e12
        session.save()
    return client


def _refused_alike(key: str) -> bool:
    """A Django admin model view other than the users': a member meets the same guard there as on the users'."""
    return bool(ADMIN_MODEL_VIEW.match(key)) and not key.removeprefix("admin:").startswith(MEMBER_ADMIN_MODEL)


@pytest.mark.parametrize("role", ["anonymous", "member", "admin"])
def test_no_route_answers_a_server_error_to_malformed_requests(role, routes, engine, settings):
    # No worker runs here, so the status page and /healthz wait out the worker ping (3 s, 16 requests per role):
    # a short wait takes the same path (the ping, its timeout, the "degraded" answer).
    settings.HEALTH_TIMEOUT = 0.3
    user = None if role == "anonymous" else UserFactory(username=f"fuzz-{role}", admin=role == "admin")
    client = _client(user)
    errors: dict[str, str] = {}  # one line per route and verb, with its first failing request
    for key, urls in routes:
        if key in ("logout", "admin:logout"):
            continue  # would end the session the rest of the walk uses; its own tests cover it
        if role == "member" and _refused_alike(key):
            continue
        for method, url, (content_type, body) in _requests(urls):
            kwargs = {"data": body, "content_type": content_type} if content_type else {}
            response = client.generic(method, url, **kwargs)
            if response.status_code >= 500 and response.status_code not in ALLOWED_5XX:
                errors.setdefault(f"{method} {key}", f"{url[:60]} {content_type or ''}: {response.status_code}")
    assert not errors, f"server errors as {role}:\n" + "\n".join(f"{k}: {v}" for k, v in sorted(errors.items()))
