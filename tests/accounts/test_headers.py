"""Headers: a strict Content-Security-Policy, CSRF on unsafe methods, cookie flags, `check --deploy` clean."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import APIToken

ROOT = Path(__file__).resolve().parents[2]
PAGES = [
    "/",
    "/settings/",
    "/settings/mfa/",
    "/settings/tokens/",
    "/settings/sessions/",
    "/settings/users/",
    "/settings/audit/",
    "/settings/security/",
    "/accounts/stepup/",
]


def test_pages_carry_a_strict_policy_that_allows_our_own_websocket(client, admin_user):
    client.force_login(admin_user)
    policy = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "connect-src 'self' ws://testserver" in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


def test_the_login_page_has_the_policy_too(client, db):
    assert "default-src 'self'" in client.get("/login/")["Content-Security-Policy"]


@pytest.mark.parametrize("path", PAGES)
def test_our_pages_have_no_inline_scripts_or_styles(client, admin_user, path):
    client.force_login(admin_user)
    html = client.get(path).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\sstyle=", html), "inline style attribute"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_unsafe_methods_need_the_csrf_token(member_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member_user)
    assert client.post("/settings/tokens/", {"name": "x", "scope": "full"}).status_code == 403
    assert client.post("/api/tokens/", {"name": "x", "scope": "full"}).status_code == 403
    assert not APIToken.objects.exists()


def test_the_session_cookie_is_http_only(client, member_user):
    from tests.factories import PASSWORD

    response = client.post("/login/", {"username": "member", "password": PASSWORD})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASAOS_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="casaos_site.settings", CASAOS_DATA_DIR=str(tmp_path), CASAOS_HTTPS="true")
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "check",
            "--deploy",
            "--tag",
            "security",
            "--tag",
            "async_support",
            "--fail-level",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (1 silenced)."


def test_the_api_pages_relax_styles_only(client, admin_user):
    # DRF's browsable API and Swagger UI style themselves inline; scripts stay ours alone.
    client.force_login(admin_user)
    policy = client.get("/api/", HTTP_ACCEPT="text/html")["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in client.get("/")["Content-Security-Policy"]


def _terminal_page(client, admin_user):
    from accounts.permissions import STEPUP_SESSION_KEY
    from apps.models import Installation

    inst = Installation.objects.create(name="web", compose="services: {web: {image: busybox}}", status="running")
    client.force_login(admin_user)
    session = client.session
    session[STEPUP_SESSION_KEY] = time.time()
    session.save()
    return client.get(f"/apps/{inst.pk}/terminal/")


def test_the_terminal_admits_style_elements_with_its_own_nonce_and_never_inline_scripts(client, admin_user):
    # xterm.js writes <style> elements (given the page's nonce) and style attributes (24-bit colours).
    first = _terminal_page(client, admin_user)
    second = client.get(first.request["PATH_INFO"])
    policy = first["Content-Security-Policy"]
    nonce = re.search(r'id="terminal"[^>]*\snonce="([^"]+)"', first.content.decode())[1]
    assert f"style-src 'self' 'nonce-{nonce}';" in policy and "style-src-attr 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy and policy.count("unsafe-inline") == 1
    assert nonce not in second["Content-Security-Policy"]  # a fresh nonce on every response
    html = first.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) and not re.search(r"\sstyle=", html)


def test_pages_that_render_no_nonce_name_none(client, admin_user):
    client.force_login(admin_user)
    policy = client.get("/")["Content-Security-Policy"]
    assert "nonce-" not in policy and "style-src-attr" not in policy and "style-src 'self';" in policy
