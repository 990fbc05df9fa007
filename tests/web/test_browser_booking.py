"""The booking officer's form in a real browser (issue 15): sex, race and ethnicity chosen from
the code lists (words shown, codes stored), values kept when the form comes back with an error,
Enter in a text field books nothing, a double click and a re-sent form book once, and a DC
number already on another arrest asks before booking again. Screenshots at desktop and phone
widths."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pars.permissions import Role
from pars.records.models import Arrest
from tests.web.conftest import Browser, WebUser

DC = "2624001234"


def _arrests(db: Engine, last_name: str) -> list[Arrest]:
    with Session(db) as session:
        return list(session.scalars(select(Arrest).where(Arrest.last_name == last_name)))


def _fill(page: Any, *, last: str, dob: str | None) -> None:
    page.get_by_label("Last name").fill(last)
    page.get_by_label("First name").fill("Dana")
    if dob is not None:
        page.get_by_label("Date of birth").fill(dob)
    page.get_by_label("Sex").select_option(label="Female")
    page.get_by_label("Race").select_option(label="Black or African American")
    page.get_by_label("Ethnicity").select_option(label="Not Hispanic or Latino")
    page.get_by_label("Arrested at").fill("2026-03-17T09:30")
    page.get_by_label("District").fill("24")
    page.get_by_label("DC number").fill(DC)
    page.get_by_label("Charge 1: statute").fill("18 § 2701 §§ A1")
    page.get_by_label("Grade").first.select_option("M2")


def test_a_booking_is_chosen_from_the_lists_and_sent_once(
    open_browser: Callable[..., Browser], web_user: Callable[..., WebUser], db: Engine
) -> None:
    officer = web_user(Role.BOOKING)
    desk = open_browser()
    desk.sign_in(officer)
    desk.go("/arrests/new")
    page = desk.page
    race = page.get_by_label("Race")
    assert race.locator("option").all_inner_texts()[:3] == ["Choose…", "White", "Black or African American"]

    # Enter in a text field books nothing (and shows no error): the officer is still typing.
    _fill(page, last="Whitaker", dob=None)
    page.get_by_label("Last name").press("Enter")
    page.get_by_label("DC number").press("Enter")
    assert page.locator("#error-summary").count() == 0 and page.url.endswith("/arrests/new")
    assert _arrests(db, "Whitaker") == []

    # Missing date of birth: the form comes back with the error and every choice kept.
    page.get_by_role("button", name="Book the arrest").click()
    summary = page.locator("#error-summary")
    summary.wait_for()
    # (its words come from the shared form messages; the link goes to the field)
    assert "Enter the date of birth" in summary.inner_text() and summary.locator("a[href='#dob']").count() == 1
    assert page.get_by_label("Race").input_value() == "B"  # the code is what is sent
    assert page.locator("#race option:checked").inner_text() == "Black or African American"
    assert page.get_by_label("Sex").input_value() == "F" and page.get_by_label("Ethnicity").input_value() == "N"
    assert page.get_by_label("Last name").input_value() == "Whitaker"
    desk.shot("1-booking-error-keeps-choices")

    # A double click books once.
    page.get_by_label("Date of birth").fill("1991-02-03")
    form = page.locator("form.booking")
    resend = form.evaluate("f => new URLSearchParams(new FormData(f)).toString()") + "&action=book"
    page.get_by_role("button", name="Book the arrest").dblclick()
    notice = page.locator("p.notice[role=status]")
    found = re.search(r"Tracking number \(OTN\) ([A-Z] \d{6}-\d)", notice.inner_text())
    assert found, notice.inner_text()
    tracking = found.group(1)
    record = page.locator("main").inner_text()
    assert "Female" in record and "Black or African American" in record and "Not Hispanic or Latino" in record
    desk.shot("2-booked-once")
    (first,) = _arrests(db, "Whitaker")
    assert (first.sex, first.race, first.ethnicity) == ("F", "B", "N")  # stored as codes

    # The same form sent again (a slow network's retry): nothing booked, the first arrest shown.
    answer = page.request.post(
        desk.base + "/arrests/new",
        data=resend,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        max_redirects=0,
    )
    assert answer.status == 303 and answer.headers["location"] == f"/arrests/{first.id}"
    desk.go(answer.headers["location"])
    assert f"This booking was already saved as {tracking}" in page.locator("p.notice[role=status]").inner_text()
    assert len(_arrests(db, "Whitaker")) == 1

    # A new booking with the same DC number: a warning naming the other arrest, then booked on confirmation.
    desk.go("/arrests/new")
    _fill(page, last="Whitfield", dob="1988-08-08")
    page.get_by_role("button", name="Book the arrest").click()
    warning = page.locator("#repeated-incident")
    warning.wait_for()
    text = warning.inner_text()
    assert f"DC {DC} is already on {tracking}, booked 2026-03-17" in text and "book again anyway?" in text
    assert _arrests(db, "Whitfield") == []
    assert page.get_by_label("Race").input_value() == "B"
    desk.shot("3-repeated-dc-number")
    phone = open_browser(phone=True)
    phone.sign_in(officer)
    phone.go("/arrests/new")
    _fill(phone.page, last="Whitfield", dob="1988-08-08")
    phone.page.get_by_role("button", name="Book the arrest").click()
    phone.page.locator("#repeated-incident").wait_for()
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.shot("4-repeated-dc-number-phone")

    page.get_by_role("button", name="Book the arrest").click()  # not confirmed: asked again
    page.locator("#repeated-incident").wait_for()
    assert _arrests(db, "Whitfield") == []
    page.get_by_label(f"Yes, book this arrest with DC {DC} as well").check()
    page.get_by_role("button", name="Book the arrest").click()
    page.locator("p.notice[role=status]").wait_for()
    assert "Arrest booked" in page.locator("p.notice[role=status]").inner_text()
    with Session(db) as session:
        assert session.scalar(select(func.count()).where(Arrest.incident_number == DC)) == 2

    # Records search on the phone: part of a name finds both, as cards that fit the screen.
    phone.go("/arrests?last_name=whit")
    results = phone.page.locator("main table.stack tbody tr")
    assert results.count() == 2  # Whitaker and Whitfield
    assert "Whitaker, Dana" in phone.page.inner_text("main") and "Whitfield, Dana" in phone.page.inner_text("main")
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.shot("5-search-partial-name-phone")
