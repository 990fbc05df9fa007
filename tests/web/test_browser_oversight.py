"""An oversight user in a real browser (Debian's Chromium): the transparency report with its
charts, reviewing an alert, verifying the audit trail with the button, and the same pages on a
phone. Screenshots go to the test's temporary folder."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pars.permissions import Role
from tests.web import partner_world
from tests.web.conftest import Browser, WebUser
from tests.web.partner_world import World

# The shared fixtures (tests/web/partner_world.py), made visible to pytest in this module.
agreement = partner_world.agreement
approve = partner_world.approve
fbi = partner_world.fbi
governors = partner_world.governors
propose = partner_world.propose
world = partner_world.world


@pytest.fixture
def oversight(web_user: Callable[..., WebUser]) -> WebUser:
    return web_user(Role.OVERSIGHT, agency="CITY")


def test_oversight_opens_the_transparency_report_and_verifies_the_trail(
    open_browser: Callable[..., Browser], oversight: WebUser, world: World
) -> None:
    tab = open_browser()
    tab.sign_in(oversight)
    tab.page.get_by_role("link", name="Reports").first.click()
    tab.page.get_by_label("From").first.fill("2026-03-01")
    tab.page.get_by_label("To (included)").first.fill("2026-03-31")
    tab.page.get_by_role("button", name="Show the transparency report").click()
    assert tab.page.get_by_role("heading", name="Arrest data shared with partner agencies").is_visible()
    assert tab.page.locator("main svg").count() == 3  # queries, records, disparate impact
    assert tab.page.locator("main svg[aria-label^='Queries per month']").is_visible()
    summary = tab.page.inner_text("#summary")
    ice = next(line for line in summary.splitlines() if line.startswith("ICE"))
    assert ice.split("\t")[1:4] == ["10", "1", "9"]  # queries, refused, records disclosed
    assert "Download: CSV · JSON · printable page" in tab.page.inner_text("main")
    tab.shot("oversight-transparency")

    tab.page.get_by_role("link", name="Alerts").first.click()
    assert "3 alerts shown" in tab.page.inner_text("main")
    card = tab.page.locator("article.alert-card", has_text="broad search")
    card.get_by_label("Review note").fill("Nine people in one night, no case: referred to the DA.")
    card.get_by_label("Finding").select_option("confirmed")
    card.get_by_role("button", name="Mark reviewed").click()
    assert "Alert marked reviewed (confirmed)." in tab.page.inner_text("main")
    assert "2 alerts shown" in tab.page.inner_text("main")  # still open: the other two
    tab.shot("oversight-alerts")

    tab.page.get_by_role("link", name="Audit trail").first.click()
    tab.page.get_by_label("Action").select_option("arrest.*")
    tab.page.get_by_label("Agency").fill("ICE")
    tab.page.get_by_role("button", name="Show entries").click()
    assert "10 entries, newest first" in tab.page.inner_text("main")
    tab.page.get_by_role("button", name="Verify now").click()
    verdict = tab.page.inner_text("#verdict")
    assert "Intact." in verdict and "entries link and hash correctly" in verdict
    assert "Latest signed checkpoint" in tab.page.inner_text("main")
    tab.shot("oversight-verified")

    phone = open_browser(phone=True)
    phone.sign_in(oversight)
    phone.go("/oversight/reports/transparency?from=2026-03-01&to=2026-03-31")
    assert phone.page.locator("main svg").count() == 3
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.shot("oversight-transparency-phone")
    phone.go("/oversight/audit")
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.shot("oversight-audit-phone")
