"""Attacks through the real server (daphne, the worker, the engine), as an adversary with a token would send them."""

import pytest
import requests

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
