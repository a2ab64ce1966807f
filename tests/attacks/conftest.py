"""Attacks through the real server (daphne, the worker, the engine), as an adversary with a token would send them."""

import re

import pytest
import requests
from requests.adapters import HTTPAdapter

from accounts.models import APIToken
from accounts.services.tokens import api_token_create


class Api:
    """A requests session against the live stack with a bearer token."""

    def __init__(self, url: str, raw_token: str):
        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {raw_token}"

    def __getattr__(self, verb):
        return lambda path, **kw: self.session.request(verb.upper(), f"{self.url}{path}", timeout=60, **kw)


@pytest.fixture
def admin_api(live_stack, admin_user, transactional_db) -> Api:
    return Api(live_stack.url, api_token_create(user=admin_user, name="attack", scope=APIToken.Scope.FULL)[1])


@pytest.fixture
def member_api(live_stack, member_user, transactional_db) -> Api:
    return Api(live_stack.url, api_token_create(user=member_user, name="attack", scope=APIToken.Scope.FULL)[1])


class _FromAddress(HTTPAdapter):
    """Connect from this loopback address: to the server, another client (127.0.0.0/8 is all ours)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Browser:
    """A person with a browser on the live stack: cookies, the CSRF token of each form, an address of their own."""

    def __init__(self, url: str, address: str = "127.0.0.1"):
        self.url = url
        self.session = requests.Session()
        self.session.mount("http://", _FromAddress(address))

    def get(self, path: str, **kw) -> requests.Response:
        return self.session.get(f"{self.url}{path}", allow_redirects=False, timeout=60, **kw)

    def submit(self, path: str, data: dict, *, form: str | None = None) -> requests.Response:
        """Open the form's page (`form`, else `path`) for its CSRF token, then post `data` to `path`."""
        page = self.get(form or path).text
        token = re.search(r'(?:name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")([^"]+)"', page).group(1)
        payload = {"csrfmiddlewaretoken": token, **data}
        return self.session.post(f"{self.url}{path}", data=payload, allow_redirects=False, timeout=60)

    def login(self, username: str, password: str, code: str | None = None) -> requests.Response:
        """The login form, then the OTP step when a code is given; returns the last answer."""
        answer = self.submit("/login/", {"username": username, "password": password})
        if code is None or answer.status_code != 302 or "/login/otp/" not in answer.headers["Location"]:
            return answer
        return self.submit("/accounts/login/otp/", {"code": code})

    @property
    def session_id(self) -> str | None:
        return self.session.cookies.get("sessionid")

    def logged_in_as(self) -> str | None:
        answer = self.get("/api/me/")
        return answer.json()["username"] if answer.status_code == 200 else None
