"""The browser walk of every page: one walk per colour scheme at phone size checks each page's width and runs axe on
it (tests/e2e/test_walk_light.py and test_walk_dark.py, two files so that two workers share them). The list comes from the URL conf and the permission table: every GET route outside the API is fetched with
real objects in its URL, and each one that answers a whole HTML document is a page. A new page is walked without
anyone adding it here; a new route with a URL parameter fails until SAMPLES says what to put in it."""

import dataclasses
import json
import time
import uuid

from django.urls import reverse

from tests import permission_table as table
from tests.accounts.test_permission_table import all_routes, table_entry
from tests.apps.conftest import HTTPD
from tests.conftest import ARTIFACTS, ROOT, free_port
from tests.factories import PASSWORD

PHONE = {"width": 390, "height": 844}
WALK_SHOTS = ARTIFACTS / "walk"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # a test tool, injected by the test, never served
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
    rule: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + (n.failureSummary || "").split("\\n").slice(1, 2).join(""))
  }));
}"""
LONG_NAME = "a-rather-long-file-name-for-the-quarterly-report-final-v2.txt"
# Pages a complete walk must reach (proof that the real objects below exist and the classification kept them).
MUST_WALK = {
    "dashboard",
    "apps",
    "app-detail",
    "app-manage",
    "app-settings",
    "app-logs",
    "app-terminal",
    "app-grants",
    "apps-containers",
    "apps-container-adopt",
    "appstore",
    "appstore-app",
    "appstore-install",
    "appstore-stores",
    "appstore-store",
    "files",
    "files-trash",
    "files-shares",
    "settings",
    "settings-users",
    "settings-user",
    "settings-audit",
    "settings-system",
    "settings-logs",
    "system-status",
    "storage",
    "api-root",
    "admin:index",
    "login",
    "files-share",
}
# Routes whose answers are pages but only for people in the middle of something else; each says why it is left out.
NOT_WALKED = {
    "setup": "first-run only: with an admin it sends people to the login",
    # first-run only too (a 404 once an admin exists): tests/backups/test_setup_restore.py opens them on a fresh stack
    "setup-restore": "first-run only: the setup page's restore form",
    "setup-restore-progress": "first-run only: the restore's progress, for the holder of its watch key",
    "setup-restore-status": "first-run only: the progress partial that page polls",
    "login-otp": "the second login step of an MFA user (tests/e2e/test_accounts.py walks it)",
    "api-docs": "Swagger UI's own page (vendored), not ours",
}


@dataclasses.dataclass
class Site:
    """The real objects the walk puts in URLs."""

    admin: object
    member: object
    installation: object
    catalog_app: object
    store: object
    container_id: str
    share: object
    extras: dict  # the pages of issues 17 and 18 that need a row: {route key: its kwargs}

    def kwargs(self, key: str) -> dict:
        samples = {
            **self.extras,
            "settings-user": {"pk": self.member.pk},
            "apps-container-adopt": {"cid": self.container_id},
            "appstore-asset": {"name": "missing"},
        }
        if key in samples:
            return samples[key]
        if key.startswith("appstore-store"):
            return {"pk": self.store.pk}
        if key.startswith("appstore-"):
            return {"pk": self.catalog_app.pk}
        if key.startswith("app-"):
            return {"pk": self.installation.pk}
        if key.startswith("files-share"):
            return {"token": self.share.token}
        return {}


@dataclasses.dataclass
class Page:
    key: str
    url: str
    role: str  # "admin", "member" or "anonymous": who opens it


def build_site(*, admin, member, app_name, docker_engine, store_path) -> tuple[Site, list]:
    """Install an app (the live worker runs it), sync a folder store, make a share link and a container by hand.
    Returns the site and what to clean up."""
    from django.conf import settings

    from apps.models import Installation
    from apps.services import app_install
    from appstore.models import AppstoreSettings, CatalogApp
    from files.services.shares import sharelink_create
    from runtime.specs import ContainerSpec, PortSpec
    from tests.appstore.conftest import make_store, sync

    (settings.FILES_ROOT / LONG_NAME).write_text("hi")
    cleanups = [(settings.FILES_ROOT / LONG_NAME).unlink]
    compose = f"services:\n  web:\n    image: {HTTPD}\n    ports: ['127.0.0.1:${{WEBUI_PORT}}:8080']\n"
    inst = app_install(user=admin, compose=compose, name=app_name)
    AppstoreSettings.objects.filter(pk=AppstoreSettings.load().pk).update(allow_lan_stores=True)
    store = sync(make_store(path=str(store_path), name="Walk store"))
    catalog_app = CatalogApp.objects.filter(store=store).order_by("pk").first()
    share = sharelink_create(user=admin, path=LONG_NAME)
    for _ in range(600):
        inst.refresh_from_db()
        if not inst.in_progress:
            break
        time.sleep(0.2)
    if inst.status != Installation.Status.RUNNING:
        cleanups[0]()
        raise AssertionError(f"the app did not install: {inst.status} {inst.error}")
    cid = docker_engine.create(
        ContainerSpec(
            name=f"walk-{uuid.uuid4().hex[:8]}",
            image=HTTPD,
            ports=(PortSpec(target=8080, published=free_port(), host_ip="127.0.0.1"),),
        )
    )
    cleanups.append(lambda: docker_engine.remove(cid, force=True))
    return Site(admin, member, inst, catalog_app, store, cid, share, _rows_of_new_pages(store_path)), cleanups


def _rows_of_new_pages(store_path) -> dict:
    """A repository (its recovery sheet), a snapshot of it (the snapshot browser: the repository is not there, so the
    page shows restic's error) and a network change waiting for its confirmation (the public confirmation page)."""
    from django.utils import timezone

    from backups.models import Repository, Snapshot
    from network.models import NetworkChange

    repo = Repository.objects.create(name="Walk", location=str(store_path.parent / "walk-repo"), password="pw " * 8)
    snap = Snapshot.objects.create(
        repository=repo, restic_id="0" * 64, short_id="00000000", time=timezone.now(), kind="folder",
        subject="Media", paths=["/srv/media"],
    )  # fmt: skip
    change = NetworkChange.objects.create(interface="eth0", method="auto", status="waiting", token_hash="0" * 64)
    return {
        "backups-recovery": {"pk": repo.pk},
        "backups-snapshot": {"pk": snap.pk},
        "network-confirm": {"pk": change.pk},
    }


ROLE_OF_ACCESS = {
    table.MEMBER: "admin",
    table.INSTALLER: "admin",
    table.ADMIN: "admin",
    table.PUBLIC: "anonymous",
    table.ANONYMOUS_ONLY: "anonymous",
}


def candidates(site: Site) -> list[Page]:
    """Every GET route outside the API (its root kept: the browsable API is our template), with real ids."""
    found = []
    for key, pattern, _route in all_routes():
        entry = table_entry(key)
        if key.endswith(":*") or entry is None or "GET" not in entry.get("methods", ["GET"]):
            continue
        if (key.startswith("api-") and key != "api-root") or (key.startswith("admin:") and key != "admin:index"):
            continue
        if key in NOT_WALKED or entry["access"] not in ROLE_OF_ACCESS:
            continue
        wanted = set(pattern.pattern.regex.groupindex)
        kwargs = {name: value for name, value in site.kwargs(key).items() if name in wanted}
        assert set(kwargs) == wanted, f"say in Site.kwargs what to put in {key}'s {sorted(wanted - set(kwargs))}"
        found.append(Page(key, reverse(key, kwargs=kwargs), ROLE_OF_ACCESS[entry["access"]]))
    return found


AS_A_BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # the browsable API answers browsers in HTML


def is_document(response) -> bool:
    """A whole HTML page (not a fragment, a download, an image or JSON)."""
    if response.status != 200 or not response.headers.get("content-type", "").startswith("text/html"):
        return False
    return response.text().lstrip()[:15].lower() == "<!doctype html>"


def pages(site: Site, requests_by_role: dict, base: str) -> list[Page]:
    """The walk: each candidate that is a page, then the error pages (404 for both, 403 for a member)."""
    walked = [
        p
        for p in candidates(site)
        if is_document(requests_by_role[p.role].get(base + p.url, max_redirects=0, headers=AS_A_BROWSER))
    ]
    missing = MUST_WALK - {p.key for p in walked}
    assert not missing, f"the walk did not reach {sorted(missing)}"
    errors = [
        Page("404", "/no/such/page/", "admin"),
        Page("404-anonymous", "/no/such/page/", "anonymous"),
        Page("403", reverse("settings-users"), "member"),
    ]
    return [*walked, *errors]


def login(page, url: str, username: str) -> None:
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def role_pages(browser, live_stack, site: Site, **context_options) -> dict:
    """A logged-in browser page for the admin and the member, and a logged-out one, with these context options."""
    opened = {}
    for role, user in (("admin", site.admin), ("member", site.member), ("anonymous", None)):
        context = browser.new_context(**context_options)
        context.set_default_timeout(20_000)
        page = context.new_page()
        if user is not None:
            login(page, live_stack.url, user.username)
        opened[role] = page
    return opened


def walk(browser, live_stack, site: Site, visit, **context_options) -> None:
    """Open every page as its role in contexts with these options and call visit(page, walked_page) on each."""
    opened = role_pages(browser, live_stack, site, **context_options)
    try:
        for target in pages(site, {role: tab.request for role, tab in opened.items()}, live_stack.url):
            tab = opened[target.role]
            tab.goto(f"{live_stack.url}{target.url}")
            tab.wait_for_load_state("networkidle")
            visit(tab, target)
    finally:
        for tab in opened.values():
            tab.context.close()


def check_every_page(browser, live_stack, site: Site, scheme: str) -> None:
    """One walk on a phone in this scheme: no page is wider than the screen, axe finds nothing serious on any."""
    wide, violations = {}, {}

    def visit(tab, target) -> None:
        if (width := tab.evaluate("document.documentElement.scrollWidth")) > PHONE["width"]:
            wide[target.key] = width
        tab.add_script_tag(path=str(AXE))
        if found := tab.evaluate(AXE_RUN):
            violations[f"{scheme} {target.key} {target.url}"] = found
        tab.screenshot(path=str(WALK_SHOTS / f"{PHONE['width']}-{scheme}-{target.key}.png"), full_page=True)

    WALK_SHOTS.mkdir(parents=True, exist_ok=True)
    # bypass_csp: the page's policy would refuse the injected axe script (nothing of the site's is bypassed).
    options = {"viewport": PHONE, "is_mobile": True, "color_scheme": scheme, "bypass_csp": True}
    walk(browser, live_stack, site, visit, **options)
    (ARTIFACTS / f"axe-{scheme}.json").write_text(json.dumps(violations, indent=1))
    assert wide == {}, "pages wider than a phone's screen"
    assert violations == {}, json.dumps(violations, indent=1)
