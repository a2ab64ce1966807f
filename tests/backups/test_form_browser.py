"""Chromium on the Backups page's repository form: each target shows only the fields it takes (a cloud drive or
remote: the list of remotes and a folder), at 1440 and 390 px, light and dark, nothing scrolling sideways.
Screenshots go to test-artifacts/ for a person to look at."""

import pytest

from remotes.models import Remote
from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack]

SIDEWAYS = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"


def _shown(page, name: str) -> bool:
    return page.locator(f'[data-repository-form] [data-field="{name}"]').is_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1440, 390])
def test_the_repository_form_shows_what_each_target_takes(
    browser, live_stack, admin_user, transactional_db, scheme, width
):
    Remote.objects.create(name="Cloud", kind="webdav", options={"url": "http://127.0.0.1:9/", "user": "casa"})
    Remote.objects.create(name="Exports", kind="nfs", options={"host": "nas", "export": "/x"})
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        browser_login(page, live_stack, admin_user.username)
        page.goto(f"{live_stack.url}/backups/")
        page.click("#backups-repositories summary")
        assert not _shown(page, "remote") and not _shown(page, "username")  # local: a folder and nothing else
        page.select_option("#id_kind", "rclone")
        assert _shown(page, "remote") and _shown(page, "location") and not _shown(page, "secret")
        options = page.locator("#id_remote option").all_inner_texts()
        assert options == ["— choose one —", "Cloud (WebDAV)"]  # no NFS export: rclone cannot reach it
        page.select_option("#id_remote", label="Cloud (WebDAV)")
        page.fill("#id_location", "backups/casaos")
        assert not page.evaluate(SIDEWAYS)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"backups-form-rclone-{width}-{scheme}.png"), full_page=True)
        page.select_option("#id_kind", "sftp")
        assert _shown(page, "username") and _shown(page, "port") and not _shown(page, "remote")
        assert page.locator("#id_remote").is_disabled()  # a hidden field is not sent
    finally:
        context.close()
