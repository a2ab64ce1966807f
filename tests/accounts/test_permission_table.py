"""Walk every URL route (pages, fragments, API, Django admin) as anonymous, member, a member allowed to install
apps, admin and a session that gave only the password of an MFA user, and hold each answer against
tests/permission_table.py."""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, SlugConverter, UUIDConverter

from accounts.permissions import STEPUP_SESSION_KEY
from accounts.services.mfa import admin_mfa_requirement_set
from tests import permission_table as table
from tests.accounts.conftest import give_mfa, password_only_client
from tests.factories import PASSWORD, UserFactory

# Values for URL parameters: ids that do not exist (a 404 still proves the guard let the request through).
FALLBACK_KWARGS = {"app_label": "accounts"}
# Where guards send people: the login, its OTP step, the admin's login, and the enrolment admins may be made to do.
LOGIN_PATHS = ("/login/", "/accounts/login/otp/", "/django-admin/login/", "/settings/mfa/?next=")


def _sample(converter) -> object:
    if isinstance(converter, IntConverter):
        return 999999
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=0)
    if isinstance(converter, SlugConverter):
        return "missing"
    return "missing"


def _walk(patterns, namespace="", prefix="", local=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(
                entry.url_patterns,
                ns,
                prefix + str(entry.pattern),
                "" if entry.namespace else local + str(entry.pattern),
            )
        elif isinstance(entry, URLPattern):
            # Unnamed routes (the admin's redirects) are keyed by their route string, inside their namespace.
            yield entry, f"{namespace}{entry.name or local + str(entry.pattern)}", prefix + str(entry.pattern)


def all_routes() -> list[tuple[str, URLPattern, str]]:
    return [(key, pattern, route) for pattern, key, route in _walk(get_resolver().url_patterns)]


def _unnamed_url(route: str) -> str:
    route = re.sub(r"<(?:int:)[^>]+>", "999999", route)
    route = re.sub(r"<[^>]+>", "missing", route)
    route = re.sub(r"\(\?P<[^>]+>[^)]*\)", "missing", route)
    return "/" + route.replace("^", "").replace("$", "")


def table_entry(key: str) -> dict | None:
    if key in table.ROUTES:
        return table.ROUTES[key]
    wildcards = sorted((k for k in table.ROUTES if k.endswith(":*")), key=len, reverse=True)
    return next((table.ROUTES[k] for k in wildcards if key.startswith(k[:-1])), None)


def route_url(key: str, pattern: URLPattern, route: str, entry: dict) -> str:
    if not pattern.name:
        return _unnamed_url(route)
    kwargs = dict(entry.get("kwargs", {}))
    converters = getattr(pattern.pattern, "converters", {})
    for name in pattern.pattern.regex.groupindex:
        if name not in kwargs:
            kwargs[name] = _sample(converters[name]) if name in converters else FALLBACK_KWARGS.get(name, "1")
    return reverse(key, kwargs=kwargs)


def outcome(response) -> str:
    """'reached' (the view answered), 'login' (sent to a login step) or 'forbidden' (401/403)."""
    assert response.status_code not in (500, 502), response  # 503: healthz reporting a service down
    if response.status_code in (401, 403):
        return "forbidden"
    if response.status_code in (301, 302, 303, 307) and response["Location"].startswith(LOGIN_PATHS):
        return "login"
    return "reached"


def test_every_route_has_an_entry_in_the_permission_table():
    missing = sorted(key for key, _, _ in all_routes() if table_entry(key) is None)
    assert not missing, f"add these routes to tests/permission_table.py: {missing}"


def test_every_entry_names_a_known_access_level():
    levels = {
        table.PUBLIC,
        table.ANONYMOUS_ONLY,
        table.MFA_STEP,
        table.MEMBER,
        table.INSTALLER,
        table.ADMIN,
        table.NOBODY,
    }
    assert {entry["access"] for entry in table.ROUTES.values()} <= levels


@pytest.fixture
def people(db):
    member = UserFactory(username="walk-member")
    installer = UserFactory(installer=True, username="walk-installer")
    admin = UserFactory(admin=True, username="walk-admin")
    guarded = UserFactory(admin=True, username="walk-mfa")
    give_mfa(guarded)
    # One admin with MFA would make MFA required for every admin; the plain admin here stands for those without.
    admin_mfa_requirement_set(required=False, actor=None)
    return {"member": member, "installer": installer, "admin": admin, "password-only": _password_only_state(guarded)}


def _password_only_state(user) -> dict:
    """What one real login leaves in the session of an MFA user who gave the password and stopped before the code."""
    from django.test import Client

    return dict(password_only_client(Client(), user, PASSWORD).session.items())


def _client_for(role, people, client_factory):
    client = client_factory()
    if role in ("member", "installer", "admin"):
        client.force_login(people[role])
        session = client.session
        session[STEPUP_SESSION_KEY] = 9e12  # step-up fresh: the walk checks roles, step-up has its own tests
        session.save()
    elif role == "password-only":
        # That state in a fresh session per request: a real login per route (a password hash each) took a minute.
        session = client.session
        session.update(people["password-only"])
        session.save()
    return client


def _request(client, method, url):
    return getattr(client, method.lower())(url)


def expected(entry: dict, role: str) -> set[str]:
    access = entry["access"]
    if entry.get("lands_on_login") and role != "anonymous":
        return {"reached", "login"}
    if access == table.NOBODY:
        return {"login", "forbidden"}
    if access == table.PUBLIC:
        return {"reached"} if role != "password-only" else {"reached", "login"}
    if access == table.ANONYMOUS_ONLY:
        return {"reached"} if role == "anonymous" else {"reached", "login", "forbidden"}
    if role == "anonymous":
        return {"login", "forbidden"}
    if role == "password-only":
        return {"reached"} if access == table.MFA_STEP or entry.get("mfa_step") else {"login", "forbidden"}
    if access == table.ADMIN and role in ("member", "installer"):
        return {"login", "forbidden"}
    if access == table.INSTALLER and role == "member":
        return {"login", "forbidden"}
    if entry.get("admin_may_be_refused") and role == "admin":
        return {"reached", "forbidden"}
    return {"reached"}


@pytest.mark.parametrize("role", ["anonymous", "member", "installer", "admin", "password-only"])
def test_each_route_answers_each_role_as_the_table_says(role, people):
    from django.test import Client

    wrong = []
    for key, pattern, route in all_routes():
        entry = table_entry(key)
        if entry is None:
            continue
        url = route_url(key, pattern, route, entry)
        for method in entry.get("methods", ["GET"]):
            client = _client_for(role, people, Client)
            got = outcome(_request(client, method, url))
            if got not in expected(entry, role):
                wrong.append(f"{method} {url} ({key}, {entry['access']}): {got}")
    assert not wrong, f"{role}: " + "; ".join(wrong)
