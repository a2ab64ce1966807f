"""Every page of the walk (tests/e2e/site_walk.py) in the dark scheme on a phone, with files in the listing: none is
wider than the screen and axe-core finds no serious or critical violation. (The other scheme has a file of its own, so
that two workers share the two walks.)"""

import pytest

from tests.e2e.site_walk import check_every_page

pytestmark = [pytest.mark.browser, pytest.mark.stack]


@pytest.mark.docker
def test_every_page_fits_a_phone_and_axe_finds_no_serious_violation_dark(browser, live_stack, walk_site):
    """Every page, also admin-only, app and store pages and the error pages."""
    check_every_page(browser, live_stack, walk_site, "dark")
