"""A partner registering a case with two subjects and closing it, in a real browser (Debian's
Chromium): "Add a subject" adds a row in place, the case is listed with its count of subjects and
never their names, and closing asks first. Screenshots go to the test's temporary folder."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.web import partner_world
from tests.web.conftest import Browser, WebUser

# The shared fixtures (tests/web/partner_world.py), made visible to pytest in this module.
agreement = partner_world.agreement
approve = partner_world.approve
fbi = partner_world.fbi
fbi_web = partner_world.fbi_web
governors = partner_world.governors
limited = partner_world.limited
propose = partner_world.propose

CASE = "FBI-PH-2026-0042"


def test_a_partner_registers_a_case_with_two_subjects_and_closes_it(
    open_browser: Callable[..., Browser], fbi_web: WebUser, limited: dict[str, Any]
) -> None:
    tab = open_browser()
    tab.sign_in(fbi_web)
    page = tab.page
    page.get_by_role("link", name="Cases").first.click()
    page.wait_for_url(re.compile(r".*/partner/cases$"))
    assert page.get_by_role("heading", name="FBI's registered cases").is_visible()
    assert "No case is registered yet." in page.inner_text("main")
    page.get_by_role("link", name="Register a case").click()
    page.wait_for_url(re.compile(r".*/partner/cases/new$"))
    assert page.get_by_role("heading", name="Register a case").is_visible()

    page.get_by_label("Case reference").fill(CASE)
    page.get_by_label("Title").fill("Kensington firearms trafficking")
    page.get_by_label("Subject 1: last name").fill("Peña")
    page.locator("#subject-0-first").fill("Ana")
    page.locator("#subject-0-dob").fill("1990-05-04")
    # With JavaScript, "Add a subject" adds an empty row in place (the typed rows stay).
    assert page.locator("li.subject-row").count() == 3
    page.get_by_role("button", name="Add a subject").click()
    page.wait_for_function("document.querySelectorAll('li.subject-row').length === 4")
    assert page.get_by_label("Subject 4: last name").evaluate("el => el === document.activeElement")
    assert page.get_by_label("Subject 1: last name").input_value() == "Peña"
    page.get_by_label("Subject 4: last name").fill("Ortiz")
    tab.shot("case-register-form")
    page.get_by_role("button", name="Register the case").click()
    page.wait_for_url(re.compile(r".*/partner/cases/[0-9a-f-]{36}$"))

    assert page.get_by_role("heading", name=f"Case {CASE}").is_visible()
    text = page.inner_text("main")
    assert f"Case {CASE} registered with 2 subject(s)." in text
    assert "2 subjects" in text and "Kensington firearms trafficking" in text
    assert "Peña" not in text and "Ortiz" not in text and "Ana" not in text
    tab.shot("case-registered")

    page.get_by_role("link", name="Cases").first.click()
    page.wait_for_url(re.compile(r".*/partner/cases$"))
    row = page.locator("table.cases tbody tr")
    assert row.count() == 1
    cells = row.first.locator("td").all_inner_texts()
    assert cells[0] == CASE and cells[3] == "open" and cells[4:] == ["2", "0"]
    row.first.get_by_role("link", name=CASE).click()

    page.wait_for_url(re.compile(r".*/partner/cases/[0-9a-f-]{36}$"))
    page.get_by_role("link", name="Close this case").click()
    page.wait_for_url(re.compile(r".*/close$"))
    assert page.get_by_role("heading", name=f"Close case {CASE}?").is_visible()
    assert "Closing cannot be undone." in page.inner_text("main")
    tab.shot("case-close-confirm")
    page.get_by_role("button", name="Close the case").click()
    page.wait_for_url(re.compile(r".*/partner/cases/[0-9a-f-]{36}$"))
    assert f"Case {CASE} closed." in page.inner_text("main")
    assert page.get_by_role("link", name="Close this case").count() == 0

    page.get_by_role("link", name="Cases").first.click()
    page.wait_for_url(re.compile(r".*/partner/cases$"))
    assert page.locator("table.cases tbody tr td").nth(3).inner_text().startswith("closed ")
    tab.shot("case-list-closed")

    phone = open_browser(phone=True)
    phone.sign_in(fbi_web)
    phone.go("/partner/cases/new")
    assert phone.page.get_by_label("Subject 1: last name").is_visible()
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.shot("case-register-phone")
