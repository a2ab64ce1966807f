"""Test clients logged in as a user, optionally with a fresh step-up (what sensitive actions ask for)."""

import time

from django.test import Client

from accounts.permissions import STEPUP_SESSION_KEY


def logged_in(user, *, stepped_up: bool = False, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    if stepped_up:
        session = client.session
        session[STEPUP_SESSION_KEY] = time.time()
        session.save()
    return client
