"""Chromium: the metrics history charts on the home page and an app's page render, switch ranges, take live points
over the page's own socket, and fit a phone in both themes."""

import time

import pytest
from django.conf import settings

from apps.models import Installation
from monitoring import store
from tests.conftest import ARTIFACTS, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.stack]


@pytest.fixture
def history(transactional_db):
    """A day of host and app figures in the stack's own store (the same data directory), removed afterwards."""
    app = Installation.objects.create(name="charted", title="Charted", compose="services: {}", status="running")
    root, now = settings.METRICS_DIR, time.time()
    host = {("host", "cpu"): 30.0, ("host", "memory"): 60.0, ("host", "net", "eth9", "rx"): 1e5}
    mine = {("app", str(app.pk), k): v for k, v in (("cpu", 5.0), ("memory", 3e8), ("rx", 1e4), ("tx", 2e4))}
    for when in range(int(now - 86400), int(now) - 10, 600):
        store.store_write(root, {**host, **mine}, when=when)
    for when in range(int(now - 3600), int(now) - 10, 10):
        store.store_write(root, {**host, **mine}, when=when)
    yield app
    for key in (*host, *mine):
        store.series_file(root, key).unlink(missing_ok=True)


def charts(page) -> list[str]:
    page.wait_for_selector("[data-metrics] figure .uplot")
    return page.eval_on_selector_all("[data-metrics] figure", "fs => fs.map(f => f.dataset.chart)")


def switch(page, label: str, range_name: str) -> None:
    with page.expect_response(lambda r: f"range={range_name}" in r.url and r.status == 200):
        page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_function(f"() => document.querySelector('[data-metrics]').dataset.loaded === '{range_name}'")
    assert page.get_attribute(f"[data-metrics] button[data-range='{range_name}']", "aria-pressed") == "true"


def test_home_charts_render_switch_ranges_and_take_live_points(page, live_stack, admin_user, history):
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/")
    page.locator("[data-metrics]").scroll_into_view_if_needed()
    assert charts(page)[:2] == ["cpu", "network"]
    assert page.locator("[data-metrics] .u-legend").first.inner_text().count("CPU") == 1
    switch(page, "24 h", "24h")
    assert charts(page)[:2] == ["cpu", "network"]
    switch(page, "30 d", "30d")
    switch(page, "1 h", "1h")
    # The worker's monitor records a point every 10 s and it arrives over /ws/system/, the widgets' own socket.
    before = page.evaluate("document.querySelector('[data-metrics]')._body.times.at(-1)")
    page.wait_for_function(
        f"() => document.querySelector('[data-metrics]')._body.times.at(-1) > {before}", timeout=40_000
    )


def test_the_app_page_charts_that_apps_figures(page, live_stack, admin_user, history):
    browser_login(page, live_stack, admin_user.username)
    page.goto(f"{live_stack.url}/apps/{history.pk}/manage/")
    page.locator("[data-metrics]").scroll_into_view_if_needed()
    assert charts(page) == ["cpu", "memory", "network"]
    assert page.get_attribute("[data-metrics]", "data-metrics-app") == str(history.pk)
    switch(page, "24 h", "24h")
    assert charts(page) == ["cpu", "memory", "network"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_charts_fit_a_phone(browser, live_stack, admin_user, history, scheme):
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme=scheme)
    page = context.new_page()
    try:
        browser_login(page, live_stack, admin_user.username)
        for path, name in (("/", "home"), (f"/apps/{history.pk}/manage/", "app")):
            page.goto(f"{live_stack.url}{path}")
            page.locator("[data-metrics]").scroll_into_view_if_needed()
            charts(page)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            ARTIFACTS.mkdir(exist_ok=True)
            page.locator("[data-metrics]").screenshot(path=str(ARTIFACTS / f"metrics-{name}-phone-{scheme}.png"))
    finally:
        context.close()
