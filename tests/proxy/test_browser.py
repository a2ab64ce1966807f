"""A real browser (Debian's Chromium) through the proxy, trusting the internal CA's root that Caddy wrote (installed
in its NSS database, as a Linux desktop would): an
app that requires our login sends it to our login page on the admin's domain, and after the login it lands on the
page it asked for, on the app's domain, let in by our login."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from apps.models import AppGrant
from tests.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, missing
from tests.factories import PASSWORD, UserFactory

from .conftest import DOMAIN, HOST

pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.django_db(transaction=True)]


def trusting_home(root: Path, home: Path) -> Path:
    """A home whose NSS database (what Chromium on Linux trusts) holds the internal CA's root and nothing else."""
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True, capture_output=True)
    add = ["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "CasaOS local CA", "-i", str(root)]
    subprocess.run(add, check=True, capture_output=True)
    return home


@pytest.fixture
def chromium(guarded, tmp_path):
    if not Path(CHROMIUM).exists() or not shutil.which("certutil"):
        missing("chromium or certutil is missing; run scripts/test-services.sh (chromium, libnss3-tools)")
    from playwright.sync_api import sync_playwright

    _inst, ca = guarded
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {DOMAIN} 127.0.0.1, MAP *.{DOMAIN} 127.0.0.1"],
            env={**os.environ, "HOME": str(trusting_home(ca, tmp_path / "home"))},
        )
        context = browser.new_context()
        context.set_default_timeout(20_000)
        yield context.new_page()
        context.close()
        browser.close()


@pytest.fixture
def member(guarded):
    """Made before the browser starts: Playwright's loop in this thread would refuse what async_to_sync runs."""
    user = UserFactory(username="browser-member")
    AppGrant.objects.create(installation=guarded[0], user=user)
    return user


def test_a_browser_is_sent_to_our_login_and_comes_back_to_the_app(guarded, caddy, member, chromium):
    page = chromium
    seen_net = []  # what to read if it fails: each answer's status, and each request the network failed
    page.on("response", lambda answer: seen_net.append(f"{answer.status} {answer.url}"))
    page.on("requestfailed", lambda request: seen_net.append(f"failed {request.url}: {request.failure}"))
    page.goto(f"https://{HOST}:{caddy.https_port}/page?x=1")
    assert page.url.startswith(f"https://{DOMAIN}:{caddy.https_port}/login/")  # our login, on the admin's domain
    page.fill("#id_username", "browser-member")
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_load_state("networkidle")  # the redirects: /proxy/start/, the app's ticket callback, the page
    landed = page.url
    if landed != f"https://{HOST}:{caddy.https_port}/page?x=1":
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "proxy-browser-failure.png"), full_page=True)
        caddy_log = (caddy.storage / "caddy.log").read_text(errors="replace")[-3000:]
        raise AssertionError(f"landed on {landed}; {seen_net}; {page.inner_text('body')[:300]}; Caddy: {caddy_log}")
    seen = json.loads(page.inner_text("body"))
    assert seen["headers"]["x-casaos-user"] == "browser-member"
    cookies = {c["name"]: c for c in page.context.cookies(f"https://{HOST}:{caddy.https_port}/")}
    assert cookies["casaos_sso"]["secure"] and cookies["casaos_sso"]["httpOnly"]
    assert cookies["casaos_sso"]["domain"] == HOST  # host-only, never the admin's domain
