"""The governance, partner and oversight pages in a real browser (Debian's Chromium), issue 15:
suspending asks to confirm; every form's errors show in a GOV.UK error summary in the order of the
page, with the values kept and "Error: " before the title; the partner record reads as the city's
does; and every list fits a 390 px phone. Screenshots (tests/.screenshots/<test>/):
suspend-confirm, suspend-confirm-phone, suspended; terms-errors, terms-errors-phone;
search-errors, search-errors-phone; review-errors; complaint-errors; partner-record,
partner-record-phone; phone-<page> for each page walked at 390 px."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pars.permissions import Role
from tests.conftest import User
from tests.web import partner_world
from tests.web.conftest import Browser, WebUser
from tests.web.partner_world import World

# The shared fixtures (tests/web/partner_world.py), made visible to pytest in this module.
agreement = partner_world.agreement
approve = partner_world.approve
fbi = partner_world.fbi
fbi_web = partner_world.fbi_web
governors = partner_world.governors
propose = partner_world.propose
world = partner_world.world

CASE = "FBI-PH-2026-0042"


@pytest.fixture
def oversight(web_user: Callable[..., WebUser]) -> WebUser:
    return web_user(Role.OVERSIGHT, agency="CITY")


@pytest.fixture
def dao(web_user: Callable[..., WebUser]) -> WebUser:
    return web_user(Role.GOVERNANCE, agency="DAO")


_WIDE = """() => [...document.querySelectorAll('main *')]
  .filter(e => e.getBoundingClientRect().right > 391)
  .slice(-3).map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 60))"""


def _fits(tab: Browser) -> None:
    width = tab.page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 390, f"{tab.page.url} scrolls sideways: {width} px, {tab.page.evaluate(_WIDE)}"


def _summary(tab: Browser) -> list[str]:
    """The error summary's lines, in the order shown."""
    summary = tab.page.locator("#error-summary")
    assert summary.is_visible()
    assert summary.locator("h2").inner_text() == "There is a problem"
    assert tab.page.title().startswith("Error: ")
    return [line.strip() for line in summary.locator("li").all_inner_texts()]


def _suspended(client: TestClient, governors: dict[str, User], agreement_id: str) -> bool:
    reply = client.get(f"/api/v1/agreements/{agreement_id}", headers=governors["CITY"].headers)
    assert reply.status_code == 200, reply.text
    suspended: bool = reply.json()["suspended"]
    return suspended


# --- suspending asks first (item 12) ------------------------------------------------------------


def test_suspend_now_asks_to_confirm_and_one_click_suspends_nothing(
    open_browser: Callable[..., Browser],
    dao: WebUser,
    agreement: Callable[..., dict[str, Any]],
    client: TestClient,
    governors: dict[str, User],
) -> None:
    made = agreement()
    tab = open_browser()
    tab.sign_in(dao)
    tab.go(f"/agreements/{made['id']}")
    tab.page.get_by_label("Reason for suspending").fill("Audit of the March queries")
    tab.page.get_by_role("button", name="Suspend now").click()
    # One click: a page that says what stops and asks; nothing is suspended yet.
    assert tab.page.get_by_role("heading", name="Suspend the agreement with FBI?").is_visible()
    warning = tab.page.inner_text("#what-stops")
    assert "All disclosure to" in warning and "stops at once" in warning
    assert tab.page.inner_text("#suspend-reason-shown") == "Audit of the March queries"
    assert _suspended(client, governors, made["id"]) is False
    tab.shot("suspend-confirm")

    phone = open_browser(phone=True)
    phone.sign_in(dao)
    phone.go(f"/agreements/{made['id']}")
    phone.page.get_by_label("Reason for suspending").fill("Phone check")
    phone.page.get_by_role("button", name="Suspend now").click()
    phone.page.get_by_role("link", name="No, keep it in force").click()
    assert _suspended(client, governors, made["id"]) is False
    phone.page.get_by_label("Reason for suspending").fill("Phone check")
    phone.page.get_by_role("button", name="Suspend now").click()
    _fits(phone)
    phone.shot("suspend-confirm-phone")

    tab.page.get_by_role("button", name="Yes, suspend now").click()
    assert "Agreement suspended: nothing is disclosed under it" in tab.page.inner_text("main")
    assert _suspended(client, governors, made["id"]) is True
    tab.shot("suspended")


def test_suspending_without_a_reason_shows_the_error_summary_and_suspends_nothing(
    open_browser: Callable[..., Browser],
    dao: WebUser,
    agreement: Callable[..., dict[str, Any]],
    client: TestClient,
    governors: dict[str, User],
) -> None:
    made = agreement()
    tab = open_browser()
    tab.sign_in(dao)
    tab.go(f"/agreements/{made['id']}")
    tab.page.get_by_role("button", name="Suspend now").click()  # no reason: the server says so
    assert _summary(tab) == ["Reason: this is required"]
    assert tab.page.locator("#suspend-reason").get_attribute("aria-invalid") == "true"
    assert tab.page.locator("#suspend-reason-error").inner_text() == "this is required"
    assert _suspended(client, governors, made["id"]) is False


# --- the same validation everywhere (item 11) ------------------------------------------------------


def test_the_terms_form_lists_its_errors_in_page_order_and_keeps_what_was_typed(
    open_browser: Callable[..., Browser], web_user: Callable[..., WebUser], fbi: User
) -> None:
    city = web_user(Role.GOVERNANCE, agency="CITY")
    for phone in (False, True):
        tab = open_browser(phone=phone)
        tab.sign_in(city)
        tab.go("/agreements/new")
        form = tab.page
        form.get_by_label("Title", exact=True).fill("FBI task force")
        form.get_by_label("First day").fill("2026-03-10")
        form.get_by_label("Last day (inclusive)").fill("2026-03-01")
        form.get_by_label("Titles", exact=True).fill("eighteen")
        form.get_by_label("Daily query limit (empty: no limit)").fill("0")
        form.get_by_role("button", name="Propose the agreement").click()
        lines = _summary(tab)
        assert lines == [
            "Partner agency: choose the partner agency",
            "Last day: the last day cannot be before the first day",
            "Purposes: choose at least one",
            "Fields: choose at least one",
            "Titles: list title numbers, e.g. 18, 75",
            "Daily query limit: must be at least 1",
        ], lines
        # Each line links to its field; the values typed are kept.
        assert form.locator("#error-summary a").first.get_attribute("href") == "#agency"
        assert form.get_by_label("Title", exact=True).input_value() == "FBI task force"
        assert form.get_by_label("Titles", exact=True).input_value() == "eighteen"
        assert form.locator("#titles-error").inner_text() == "list title numbers, e.g. 18, 75"
        assert form.evaluate("document.activeElement.id") == "error-summary"
        if phone:
            _fits(tab)
        tab.shot("terms-errors-phone" if phone else "terms-errors")


def test_a_partner_search_refused_shows_the_summary_at_its_field(
    open_browser: Callable[..., Browser],
    fbi_web: WebUser,
    agreement: Callable[..., dict[str, Any]],
    book: Callable[..., dict[str, Any]],
) -> None:
    agreement()
    book()
    for phone in (False, True):
        tab = open_browser(phone=phone)
        tab.sign_in(fbi_web)
        tab.go("/partner/search")
        tab.page.get_by_label("Last name").fill("Peña")
        tab.page.get_by_role("button", name="Search").click()  # no purpose, no case, too broad
        lines = _summary(tab)
        assert len(lines) == 1 and lines[0].startswith("Purpose: Choose the purpose of this search")
        assert tab.page.get_by_label("Last name").input_value() == "Peña"
        tab.page.get_by_label("Purpose").select_option("criminal_investigation")
        tab.page.get_by_role("button", name="Search").click()
        assert _summary(tab) == ["Case reference: Enter the case this search serves: your agreement requires one"]
        tab.page.get_by_label("Case reference").fill(CASE)
        tab.page.get_by_role("button", name="Search").click()
        lines = _summary(tab)
        assert lines[0].startswith("Last name: Give a last name with a date of birth or a first name")
        assert tab.page.get_by_label("Case reference").input_value() == CASE
        if phone:
            _fits(tab)
        tab.shot("search-errors-phone" if phone else "search-errors")


def test_an_alert_review_without_a_note_and_a_bad_complaint_show_their_summaries(
    open_browser: Callable[..., Browser], oversight: WebUser, world: World
) -> None:
    tab = open_browser()
    tab.sign_in(oversight)
    tab.go("/oversight/alerts")
    card = tab.page.locator("article.alert-card", has_text="Broad search")
    card.get_by_label("Finding").select_option("confirmed")
    card.get_by_role("button", name="Mark reviewed").click()
    assert _summary(tab) == ["Review note: Write a note (up to 4000 characters): what you found, and why"]
    assert tab.page.get_by_label("Finding").input_value() == "confirmed"  # kept
    assert "Alert: broad search (ICE)" in tab.page.title()
    tab.shot("review-errors")

    tab.go("/oversight/complaints")
    tab.page.get_by_label("Who complained").fill("A resident, by letter")
    tab.page.get_by_role("button", name="Record the complaint").click()
    lines = _summary(tab)
    assert [line.split(":")[0] for line in lines] == ["About the agency", "What the complaint says"]
    assert tab.page.get_by_label("Who complained").input_value() == "A resident, by letter"
    tab.shot("complaint-errors")


# --- the partner record (item 14) ----------------------------------------------------------------


def test_the_partner_record_reads_as_the_city_side_does(
    open_browser: Callable[..., Browser],
    fbi_web: WebUser,
    agreement: Callable[..., dict[str, Any]],
    walk: Callable[..., dict[str, Any]],
) -> None:
    fields = ["person.name", "person.dob", "person.sex", "person.race", "person.ethnicity", "charges", "arraignment",
              "custody"]  # fmt: skip
    agreement(fields=fields)
    record = walk("arraigned")
    for phone in (False, True):
        tab = open_browser(phone=phone)
        tab.sign_in(fbi_web)
        tab.go(f"/partner/arrests/{record['id']}?purpose=criminal_investigation&case_reference={CASE}")
        text = tab.page.inner_text("main")
        assert "Peña, Ana" in text and "Female" in text and "White" in text and "Hispanic or Latino" in text
        assert "$5,000.00" in text and "5000.0" not in text
        assert "Monetary bail" in text
        rows = tab.page.locator("table.charges-shared tbody tr")
        assert rows.count() == 1
        assert "18 § 2701 §§ A1" in rows.first.inner_text() and "Approved" in rows.first.inner_text()
        for code in ("in_custody", "monetary", "approved\n", "person_id"):
            assert code not in text
        if phone:
            _fits(tab)
        tab.shot("partner-record-phone" if phone else "partner-record")


# --- phone: no sideways scroll (item 10) ---------------------------------------------------------


def test_every_list_of_these_pages_fits_a_phone(
    open_browser: Callable[..., Browser],
    oversight: WebUser,
    dao: WebUser,
    fbi_web: WebUser,
    world: World,
) -> None:
    tab = open_browser(phone=True)
    tab.sign_in(oversight)
    pages = {
        "agreements": "/agreements",
        "agreement": f"/agreements/{world.fbi_agreement}",
        "alerts": "/oversight/alerts?status=all",
        "audit": "/oversight/audit",
        "reports": "/oversight/reports",
        "transparency": "/oversight/reports/transparency?from=2026-03-01&to=2026-03-31",
        "compliance": f"/oversight/reports/compliance/{world.ice_agreement}",
        "complaints": "/oversight/complaints",
    }
    for name, path in pages.items():
        tab.go(path)
        _fits(tab)
        tab.shot(f"phone-{name}")
    # A chart's labels keep their size: the chart scrolls inside its own box, the page does not.
    tab.go("/oversight/reports/transparency?from=2026-03-01&to=2026-03-31")
    assert tab.page.locator(".report-embed figure svg").first.bounding_box()["width"] >= 640
    tab.go("/oversight/disclosures")
    tab.page.get_by_label("Last name").fill("Lopez1")
    tab.page.get_by_label("Date of birth").fill("1990-05-04")
    tab.page.get_by_role("button", name="Find disclosures").click()
    tab.page.wait_for_load_state()  # the click starts a navigation: measure the page once its styles apply
    assert "2 disclosures" in tab.page.inner_text("main")
    _fits(tab)
    tab.shot("phone-disclosures")

    partner = open_browser(phone=True)
    partner.sign_in(fbi_web)
    partner.go("/partner/search")
    partner.page.get_by_label("Purpose").select_option("criminal_investigation")
    partner.page.get_by_label("Case reference").fill(CASE)
    partner.page.get_by_label("Last name").fill("Lopez2")
    partner.page.get_by_label("First name").fill("Ana2")
    partner.page.get_by_role("button", name="Search").click()
    partner.page.wait_for_load_state()
    assert "1 record found" in partner.page.inner_text("main")
    _fits(partner)
    partner.shot("phone-partner-search")


# --- plain words (item 13) -----------------------------------------------------------------------

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
# A code's shape: two lowercase words joined by "_", or a dotted field name (person.dob).
_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(?:person|arrest)\.[a-z_]+\b")


def _shown(tab: Browser) -> str:
    """What a person reads on the page: the visible text of <main>."""
    return str(tab.page.inner_text("main"))


def _plain(tab: Browser, path: str) -> None:
    text = _shown(tab)
    assert not _UUID.search(text), f"{path} shows an id: {_UUID.search(text)}"
    code = _CODE.search(text)
    assert code is None, f"{path} shows a code: {code.group(0) if code else ''}"
    assert "CONTRACT" not in text and '{"' not in text and '":' not in text, path


def test_no_page_shows_a_code_an_id_or_raw_json(
    open_browser: Callable[..., Browser],
    oversight: WebUser,
    dao: WebUser,
    fbi_web: WebUser,
    world: World,
) -> None:
    for who, paths in (
        (oversight, [
            "/agreements", f"/agreements/{world.fbi_agreement}", f"/agreements/{world.ice_agreement}",
            "/oversight/alerts?status=all", "/oversight/audit", "/oversight/audit?agency=ICE&outcome=refused",
            "/oversight/reports", "/oversight/reports/transparency?from=2026-03-01&to=2026-03-31",
            f"/oversight/reports/compliance/{world.ice_agreement}", f"/oversight/reports/compliance/{world.fbi_agreement}",
            "/oversight/complaints",
        ]),
        (dao, ["/agreements", f"/agreements/{world.fbi_agreement}", f"/agreements/{world.fbi_agreement}/versions/new",
               "/agreements/new"]),
        (fbi_web, ["/agreements", f"/agreements/{world.fbi_agreement}", "/partner/search"]),
    ):  # fmt: skip
        tab = open_browser()
        tab.sign_in(who)
        for path in paths:
            tab.go(path)
            _plain(tab, path)
    # The alerts' own pages, and the compliance report naming an alert by when, what and who.
    tab = open_browser()
    tab.sign_in(oversight)
    tab.go("/oversight/alerts?status=all")
    hrefs = [link.get_attribute("href") for link in tab.page.locator("article.alert-card h2 a").all()]
    assert len(hrefs) == 3
    for href in hrefs:
        assert href is not None
        tab.go(href)
        _plain(tab, href)
    tab.go(f"/oversight/reports/compliance/{world.ice_agreement}")
    evidence = tab.page.inner_text("table.terms")
    assert re.search(r"alert of \d{1,2} [A-Z][a-z]{2}, \d\d:\d\d — broad search by ICE", evidence), evidence
    # The trail's user filter offers names, and choosing one filters by that user.
    tab.go("/oversight/audit")
    option = tab.page.locator("#user option", has_text="FBI").first
    tab.page.get_by_label("User").select_option(label=option.inner_text())
    tab.page.get_by_role("button", name="Show entries").click()
    assert "entries, newest first" in _shown(tab) or "entry, newest first" in _shown(tab)
    _plain(tab, "/oversight/audit?user=…")
    tab.shot("audit-by-user")
    # The disclosures of one person: names, not ids.
    tab.go("/oversight/disclosures")
    tab.page.get_by_label("Last name").fill("Lopez1")
    tab.page.get_by_label("Date of birth").fill("1990-05-04")
    tab.page.get_by_role("button", name="Find disclosures").click()
    _plain(tab, "/oversight/disclosures")
