"""Issue 15 in Debian's Chromium: the ADA's day (queue → case page → approve, modify with a charge
added and one removed, decline; an error stays on the case page; a conflict says who and when),
the magistrate's (docket → case page, a bail amount in words refused in plain words), booking's
custody worklist (commit, release), the statute combobox and the grade order, and every one of
these pages at phone width without sideways scrolling. Screenshots: tests/.screenshots/<test>/."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pars.permissions import Role
from pars.records import codes
from tests.web.conftest import Browser, WebUser

Walk = Callable[..., dict[str, Any]]
NO_SIDEWAYS = "document.scrollingElement.scrollWidth"


def _fits_a_phone(browser: Browser, path: str, name: str) -> None:
    browser.go(path)
    assert browser.page.evaluate(NO_SIDEWAYS) <= 390, path
    browser.shot(name)


def test_ada_decides_from_the_queue_through_the_case_page(
    open_browser: Callable[..., Browser], web_user: Callable[..., WebUser], book: Walk
) -> None:
    approve = book(person={"name": {"last": "Abbott", "first": "Al"}, "dob": "1981-01-01"},
                   arrest={"arrested_at": "2026-03-17T07:00:00-04:00", "incident_number": "2624000001"})  # fmt: skip
    modify = book(person={"name": {"last": "Baker", "first": "Bo"}, "dob": "1982-02-02"},
                  arrest={"arrested_at": "2026-03-17T08:00:00-04:00", "incident_number": "2624000002"},
                  charges=[{"statute": "18 § 2701 §§ A1", "grade": "M2"}, {"statute": "18 § 5503", "grade": "S"}])  # fmt: skip
    decline = book(person={"name": {"last": "Cole", "first": "Cy"}, "dob": "1983-03-03"},
                   arrest={"arrested_at": "2026-03-17T09:00:00-04:00", "incident_number": "2624000003"})  # fmt: skip
    ada_user = web_user(Role.CHARGING, agency="DAO")
    ada = open_browser()
    ada.sign_in(ada_user)
    page = ada.page

    ada.go("/charging")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 3
    assert "Officers responded to a report of a fight." in rows.nth(0).inner_text()  # the narrative
    assert page.locator("main form").count() == 0  # a list
    ada.shot("1-queue")

    # Approve: the first case.
    rows.nth(0).get_by_role("link", name=re.compile("^Decide")).click()
    assert page.url.endswith(f"/charging/{approve['id']}")
    assert page.locator('nav a[aria-current="page"]').inner_text() == "Charging queue"
    ada.shot("2-case-page")
    # An error first: no decision chosen; the page and its address stay, the notes are kept.
    page.get_by_label("Notes").fill("checked the video")
    page.get_by_role("button", name="Record the decision").click()
    assert page.url.endswith(f"/charging/{approve['id']}")
    summary = page.locator("[data-error-summary]")
    assert summary.is_visible() and "Choose a charging decision" in summary.inner_text()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'")
    assert page.title().startswith("Error:")
    assert page.get_by_label("Notes").input_value() == "checked the video"
    ada.shot("3-case-error")
    page.get_by_label("Approve as booked").check()
    page.get_by_role("button", name="Record the decision").click()
    notice = page.locator("p.notice[role=status]").inner_text()
    assert f"Charges approved for {approve['tracking_number']}: docket number MC-51-CR-" in notice
    assert page.url.endswith("/charging")

    # Modify: add a charge (in place, by JavaScript), remove a booked one, with errors in page order first.
    page.locator("table.queue tr", has_text=modify["tracking_number"]).get_by_role(
        "link", name=re.compile("^Decide")
    ).click()
    page.get_by_label("Modify (file the charges below)").check()
    assert page.locator("#charge_statute-1").input_value() == "18 § 5503"
    page.get_by_role("button", name="Add a charge").click()
    assert page.evaluate("document.activeElement.id") == "charge_statute-2"  # the new row, focused
    page.locator("#charge_statute-2").fill("18 § 9999")
    page.get_by_role("button", name="Remove charge 1").click()  # the assault charge
    assert page.locator("#charge_statute-0").input_value() == "18 § 5503"
    assert page.locator("label[for=charge_statute-1]").inner_text() == "Charge 2: statute"
    page.locator("#charge_grade-0").select_option("")
    page.get_by_role("button", name="Record the decision").click()
    assert page.url.endswith(f"/charging/{modify['id']}")
    items = page.locator("[data-error-summary] li").all_inner_texts()
    assert items[0] == "Charge 1, grade: Choose a grade" and items[1].startswith(
        "Charge 2, statute: 18 § 9999 is not a statute courts have recorded"
    )
    assert items[2] == "Charge 2, grade: Choose a grade"  # the row's other error is not hidden
    assert page.locator("#charge_statute-1").input_value() == "18 § 9999"  # kept
    ada.shot("4-modify-errors")
    page.locator("#charge_grade-0").select_option("S")
    page.locator("#charge_statute-1").fill("18 § 3503 §§ B1I")
    page.locator("#charge_statute-1").press("Escape")
    grades = page.locator("#charge_grade-1")
    grades.select_option("M3")
    page.get_by_role("button", name="Record the decision").click()
    assert f"Charges modified for {modify['tracking_number']}" in page.locator("p.notice[role=status]").inner_text()
    ada.go(f"/arrests/{modify['id']}")
    charges = page.locator("main table").first.inner_text()
    assert "18 § 3503 §§ B1I" in charges and "declined" in charges
    ada.shot("5-modified-record")

    # Decline, while a colleague has the same case open: the second decision is told who and when.
    colleague = open_browser()
    colleague.sign_in(web_user(Role.CHARGING, agency="DAO"))
    colleague.go(f"/charging/{decline['id']}")
    ada.go(f"/charging/{decline['id']}")
    page.get_by_label("Decline").check()
    page.get_by_role("button", name="Record the decision").click()
    assert f"Charges declined for {decline['tracking_number']}" in page.locator("p.notice[role=status]").inner_text()
    colleague.page.get_by_label("Approve as booked").check()
    colleague.page.get_by_role("button", name="Record the decision").click()
    said = colleague.page.locator("[data-error-summary]").inner_text()
    assert re.search(
        rf"{re.escape(decline['tracking_number'])} was already decided: charges declined by DAO charging \(DAO\)"
        r" at \d\d:\d\d on 17 March\.",
        said,
    ), said
    colleague.shot("6-conflict")

    phone = open_browser(phone=True)
    phone.sign_in(ada_user)
    _fits_a_phone(phone, "/charging", "7-queue-phone-empty")
    _fits_a_phone(phone, f"/charging/{decline['id']}", "8-case-phone")


def test_magistrate_arraigns_from_the_docket_via_the_case_page(
    open_browser: Callable[..., Browser], web_user: Callable[..., WebUser], walk: Walk
) -> None:
    late = walk("charges_approved", arrest={"arrested_at": "2026-03-16T08:00:00-04:00", "district": "35",
                                            "incident_number": "2635000111"})  # fmt: skip
    fresh = walk("charges_approved")
    judge_user = web_user(Role.MAGISTRATE, agency="FJD")
    phone = open_browser(phone=True)
    phone.sign_in(judge_user)
    phone.go("/docket")
    overdue = phone.page.locator("tr.overdue")
    assert (
        overdue.locator(".badge.bad").is_visible()
        and overdue.get_by_role("link", name=re.compile("^Arraign")).is_visible()
    )
    for link in (
        overdue.get_by_role("link", name=re.compile("^Arraign")),
        overdue.locator("a.nobreak"),
    ):
        box = link.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
    number = overdue.locator("a.nobreak").first
    assert number.evaluate("a => getComputedStyle(a).whiteSpace") == "nowrap"  # never wrapped mid-number
    assert number.evaluate("a => a.getClientRects().length") == 1
    assert phone.page.evaluate(NO_SIDEWAYS) <= 390
    phone.shot("1-docket-phone")
    _fits_a_phone(phone, f"/docket/{late['id']}", "2-case-phone")

    judge = open_browser()
    judge.sign_in(judge_user)
    judge.go("/docket")
    judge.shot("3-docket")
    judge.page.locator("table.docket tr", has_text=fresh["tracking_number"]).get_by_role(
        "link", name=re.compile("^Arraign")
    ).click()
    page = judge.page
    assert page.url.endswith(f"/docket/{fresh['id']}")
    assert page.locator('nav a[aria-current="page"]').inner_text() == "Docket"
    page.get_by_label("Bail type").select_option("monetary")
    page.get_by_label("Bail amount ($)").fill("five thousand")
    page.get_by_label("Next hearing").fill("2026-03-24T09:00")
    page.get_by_label("Conditions").fill("No contact with the complainant")
    page.get_by_role("button", name="Record the arraignment").click()
    assert page.url.endswith(f"/docket/{fresh['id']}")
    assert (
        "Enter the bail amount as a number, like 5000 or 5,000.50" in page.locator("[data-error-summary]").inner_text()
    )
    assert page.locator("#bail_amount-error").inner_text() == "Enter the bail amount as a number, like 5000 or 5,000.50"
    assert page.get_by_label("Bail amount ($)").input_value() == "five thousand"
    assert page.get_by_label("Conditions").input_value() == "No contact with the complainant"
    assert page.get_by_label("Next hearing").input_value() == "2026-03-24T09:00"
    judge.shot("4-bail-error")
    page.get_by_label("Bail amount ($)").fill("5,000.50")
    page.get_by_role("button", name="Record the arraignment").click()
    assert (
        f"Arraigned {fresh['tracking_number']} (monetary bail)." in page.locator("p.notice[role=status]").inner_text()
    )
    assert page.url.endswith("/docket")
    judge.shot("5-arraigned")


def test_custody_worklist_commit_and_release(
    open_browser: Callable[..., Browser], web_user: Callable[..., WebUser], walk: Walk
) -> None:
    to_commit = walk("arraigned", person={"name": {"last": "Diaz", "first": "Dan"}, "dob": "1984-04-04"})
    to_release = walk("arraigned", person={"name": {"last": "Ellis", "first": "Eve"}, "dob": "1985-05-05"})
    officer_user = web_user(Role.BOOKING)
    officer = open_browser()
    officer.sign_in(officer_user)
    page = officer.page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Custody").click()
    assert page.locator('nav a[aria-current="page"]').inner_text() == "Custody"
    assert "2 waiting" in page.locator("ul.counts").inner_text()
    officer.shot("1-custody-list")

    page.locator("tr", has_text=to_commit["tracking_number"]).get_by_role("link", name=re.compile("^Commit")).click()
    page.get_by_role("button", name="Record the commitment").click()
    assert page.locator("#facility-error").inner_text() == "Choose the facility"
    page.locator("#facility").select_option(codes.FACILITIES[0])
    officer.shot("2-commit")
    page.get_by_role("button", name="Record the commitment").click()
    assert f"committed to {codes.FACILITIES[0]}" in page.locator("p.notice[role=status]").inner_text()
    assert "1 waiting" in page.locator("ul.counts").inner_text()

    page.locator("tr", has_text=to_release["tracking_number"]).get_by_role(
        "link", name=re.compile("release", re.I)
    ).click()
    page.locator("#reason").select_option("bail posted")
    officer.shot("3-release")
    page.get_by_role("button", name="Record the release").click()
    assert (
        f"{to_release['tracking_number']} released (bail posted)." in page.locator("p.notice[role=status]").inner_text()
    )
    assert "No one is waiting for release or commitment." in page.inner_text("main")
    officer.go(f"/arrests/{to_release['id']}")
    custody = page.locator("dt:text('Custody') + dd").inner_text()
    assert custody.startswith("Released ") and custody.count("eleased") == 1  # not "released · released"
    officer.shot("4-released-record")

    phone = open_browser(phone=True)
    phone.sign_in(officer_user)
    _fits_a_phone(phone, "/custody", "5-custody-phone")
    _fits_a_phone(phone, f"/custody/{to_commit['id']}", "6-custody-case-phone")


def test_statute_combobox_and_grade_order(
    open_browser: Callable[..., Browser], web_user: Callable[..., WebUser], book: Walk
) -> None:
    record = book()
    ada = open_browser()
    ada.sign_in(web_user(Role.CHARGING, agency="DAO"))
    ada.go(f"/charging/{record['id']}")
    page = ada.page
    page.get_by_label("Modify (file the charges below)").check()
    statute = page.locator("#charge_statute-0")
    assert statute.get_attribute("role") == "combobox" and statute.get_attribute("aria-expanded") == "false"
    statute.fill("disorderly conduct")
    listbox = page.locator("#charge_statute-0-results")
    listbox.locator('[role="option"]').first.wait_for()
    count = listbox.locator('[role="option"]').count()
    assert count > 2
    assert statute.get_attribute("aria-expanded") == "true"
    assert statute.get_attribute("aria-controls") == "charge_statute-0-results"
    assert page.locator("#charge_statute-0-count").inner_text().startswith(f"{count} statutes found")
    seen = []
    for _ in range(count):
        statute.press("ArrowDown")
        seen.append(statute.get_attribute("aria-activedescendant"))
    assert seen == [f"charge_statute-0-results-{i}" for i in range(count)]  # every suggestion, in turn
    assert page.locator(f"#{seen[-1]}").get_attribute("aria-selected") == "true"
    ada.shot("1-combobox")
    statute.fill("18 § 5503")
    option = listbox.get_by_role("option", name=re.compile(r"^18 § 5503 — "))
    option.wait_for()
    for _ in range(20):
        statute.press("ArrowDown")
        if statute.get_attribute("aria-activedescendant") == option.get_attribute("id"):
            break
    statute.press("Enter")
    assert statute.input_value() == "18 § 5503"
    grades = page.locator("#charge_grade-0 option").all_inner_texts()
    assert grades[1:3] == ["S", "M3"]  # the usual grades first
    assert "F1 (rare for this offense)" in grades and grades[-1] == "F1 (rare for this offense)"
    ada.shot("2-grades")
