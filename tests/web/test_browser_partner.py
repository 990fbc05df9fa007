"""A partner searching in a real browser (Debian's Chromium): only the fields its agreement
grants reach the page, and an agreement past its end gets a page that says so. Screenshots go
to the test's temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pars.clock import FrozenClock
from tests.conftest import arrest_body
from tests.web import partner_world
from tests.web.conftest import Browser, WebUser
from tests.web.partner_world import HIDDEN

# The shared fixtures (tests/web/partner_world.py), made visible to pytest in this module.
agreement = partner_world.agreement
approve = partner_world.approve
fbi = partner_world.fbi
fbi_web = partner_world.fbi_web
governors = partner_world.governors
limited = partner_world.limited
propose = partner_world.propose


CASE = "FBI-PH-2026-0042"


def _search(tab: Browser, last_name: str, dob: str) -> None:
    page = tab.page
    page.get_by_label("Purpose").select_option("criminal_investigation")
    page.get_by_label("Case reference").fill(CASE)
    page.get_by_label("Last name").fill(last_name)
    page.get_by_label("Date of birth").fill(dob)
    page.get_by_role("button", name="Search").click()


def test_a_partner_search_shows_only_the_granted_fields(
    open_browser: Callable[..., Browser],
    fbi_web: WebUser,
    limited: dict[str, Any],
    book: Callable[..., dict[str, Any]],
) -> None:
    record = book()  # with an address, a phone, a narrative and a place of birth: none of them granted
    other = book(person={**arrest_body()["person"], "name": {"first": "José", "last": "Peña"}, "dob": "1985-11-02"})
    tab = open_browser()
    tab.sign_in(fbi_web)
    tab.page.get_by_role("link", name="Search").first.click()
    assert tab.page.get_by_role("heading", name="Search arrest records").is_visible()
    assert tab.page.locator("#place_of_birth, #citizenship, #sid, #incident_number").count() == 0
    tab.shot("partner-search-form")

    _search(tab, "PENA", "1990-05-04")
    text = tab.page.inner_text("body")
    assert "1 record found" in text
    assert record["tracking_number"] in text and "Peña, Ana" in text and "1990-05-04" in text
    assert "18 § 2701 §§ A1" in text and "In custody" in text
    assert other["tracking_number"] not in text and "José" not in text
    html = tab.page.content()
    for name, value in HIDDEN.items():
        assert value not in text and value not in html, name
    tab.shot("partner-search-results")

    tab.page.get_by_role("link", name="Open this record").click()
    assert tab.page.get_by_role("heading", name=f"Record {record['tracking_number']}").is_visible()
    text = tab.page.inner_text("body")
    assert f"case {CASE}" in text and "Peña, Ana" in text
    for name, value in HIDDEN.items():
        assert value not in text, name
    tab.shot("partner-record")

    phone = open_browser(phone=True)
    phone.sign_in(fbi_web)
    phone.go("/partner/search")
    _search(phone, "Peña", "1990-05-04")
    assert record["tracking_number"] in phone.page.inner_text("main")
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.shot("partner-search-phone")


def test_after_the_agreement_expired_the_partner_sees_why(
    open_browser: Callable[..., Browser], fbi_web: WebUser, limited: dict[str, Any], clock: FrozenClock
) -> None:
    # The demo's ICE story: an agreement in force until the end of August 31, not renewed.
    clock.set(datetime.fromisoformat("2026-09-02T10:00:00-04:00"))
    tab = open_browser()
    tab.sign_in(fbi_web)
    tab.go("/partner/search")
    assert tab.page.get_by_role("heading", name="FBI has no data-sharing agreement in force").is_visible()
    text = tab.page.inner_text("main")
    assert "expired" in text and "Expired since 2026-09-01 00:00 EDT" in text
    assert "FBI Philadelphia arrest data sharing" in text
    assert tab.page.get_by_label("Last name").count() == 0  # no form to search with
    tab.shot("partner-not-in-force")

    phone = open_browser(phone=True)
    phone.sign_in(fbi_web)
    phone.go("/partner/search")
    assert "Expired since 2026-09-01 00:00 EDT" in phone.page.inner_text("main")
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.shot("partner-not-in-force-phone")
