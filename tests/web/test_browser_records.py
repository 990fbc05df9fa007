"""A day's work in a real browser (Debian's Chromium): booking signs in with TOTP and books an
arrest, finding the statute by typing; charging approves it from the queue; the magistrate finds
it on the docket with its hours, arraigns it and sees it leave the docket. Screenshots of each
step go to the test's temporary folder, and one of the docket on a phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pars.permissions import Role
from tests.web.conftest import Browser, WebUser


def test_book_decide_and_arraign_in_the_browser(
    open_browser: Callable[..., Browser], web_user: Callable[..., WebUser], walk: Callable[..., dict[str, Any]]
) -> None:
    # An older case, already charged and past the 24-hour limit, waits on the docket.
    late = walk(
        "charges_approved",
        person={"name": {"last": "Okafor", "first": "Chidi"}, "dob": "1979-11-30"},
        arrest={"arrested_at": "2026-03-16T08:00:00-04:00", "district": "35", "incident_number": "2635000111"},
    )

    # Booking: the intake form, with the statute found by typing words of its name.
    booking = open_browser()
    booking.sign_in(web_user(Role.BOOKING))
    booking.go("/arrests/new")
    page = booking.page
    page.get_by_label("Last name").fill("Rivera")
    page.get_by_label("First name").fill("Luz")
    page.get_by_label("Date of birth").fill("1994-07-21")
    page.get_by_label("Arrested at").fill("2026-03-17T09:30")
    page.get_by_label("District").fill("24")
    page.get_by_label("DC number").fill("2624007788")
    page.get_by_label("Charge 1: statute").fill("simple assault")
    choice = page.get_by_role("option", name=re.compile(r"^18 § 2701 §§ A1 — Simple Assault"))
    choice.wait_for()
    booking.shot("1-booking-statute-search")
    choice.click()
    assert page.get_by_label("Charge 1: statute").input_value() == "18 § 2701 §§ A1"
    grades = page.locator("#charge_grade-0 option").all_inner_texts()
    assert "M2" in grades and "F1" not in grades  # only the grades recorded for this statute
    page.get_by_label("Grade").first.select_option("M2")
    booking.shot("2-booking-form-filled")
    page.get_by_role("button", name="Book the arrest").click()
    notice = page.locator("p.notice[role=status]").inner_text()
    found = re.search(r"Tracking number \(OTN\) ([A-Z] \d{6}-\d), PPN (\d+)", notice)
    assert found, notice
    tracking = found.group(1)
    assert page.get_by_role("heading", name=f"Arrest {tracking}").is_visible()
    assert "Rivera, Luz" in page.inner_text("main")
    booking.shot("3-booked-record")

    # Charging: the queue, oldest first, a list; the case page has the decision form.
    charging = open_browser()
    charging.sign_in(web_user(Role.CHARGING, agency="DAO"))
    charging.go("/charging")
    row = charging.page.locator("table.queue tr", has_text=tracking)
    assert "hours" in row.inner_text()
    charging.shot("4-charging-queue")
    row.get_by_role("link", name=re.compile("^Decide")).click()
    assert charging.page.url.endswith("/charging/" + charging.page.url.rsplit("/", 1)[1])
    charging.page.get_by_label("Approve as booked").check()
    charging.page.get_by_role("button", name="Record the decision").click()
    notice = charging.page.locator("p.notice[role=status]").inner_text()
    assert f"Charges approved for {tracking}: docket number MC-51-CR-" in notice
    assert tracking not in charging.page.inner_text("main").replace(notice, "")
    charging.shot("5-charges-decided")

    # The magistrate: both cases on the docket, the late one marked overdue in words.
    magistrate_user = web_user(Role.MAGISTRATE, agency="FJD")
    judge = open_browser()
    judge.sign_in(magistrate_user)
    judge.go("/docket")
    rows = judge.page.locator("table.docket tbody tr")
    assert rows.count() == 2
    assert late["tracking_number"] in rows.nth(0).inner_text()  # oldest arrest first
    overdue = judge.page.locator("tr.overdue")
    assert overdue.count() == 1 and "overdue" in overdue.inner_text()
    assert late["tracking_number"] in overdue.inner_text()
    ours = judge.page.locator("table.docket tr", has_text=tracking)
    hours = float(re.search(r"(\d+\.\d)", ours.locator("td.hours").inner_text()).group(1))  # type: ignore[union-attr]
    assert 5.4 <= hours <= 6.0  # arrested 09:30, the clock is 15:00 city time (and a little)
    judge.shot("6-docket")

    phone = open_browser(phone=True)
    phone.sign_in(magistrate_user)
    phone.go("/docket")
    assert phone.page.locator("tr.overdue").count() == 1
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways page scroll
    phone.shot("7-docket-phone")

    ours.get_by_role("link", name=re.compile("^Arraign")).click()
    form = judge.page.locator("form#arraignment-form")
    form.get_by_label("Bail type").select_option("monetary")
    form.get_by_label("Bail amount ($)").fill("2500")
    form.get_by_label("Next hearing").fill("2026-03-24T09:00")
    form.get_by_label("Conditions").fill("No contact with the complainant")
    form.get_by_role("button", name="Record the arraignment").click()
    assert f"Arraigned {tracking} (monetary bail)." in judge.page.locator("p.notice[role=status]").inner_text()
    rows = judge.page.locator("table.docket tbody tr")
    assert rows.count() == 1 and tracking not in rows.inner_text()  # gone from the waiting list
    assert late["tracking_number"] in rows.inner_text()
    judge.shot("8-docket-after-arraignment")

    judge.go(f"/arrests/{late['id']}")
    assert "Booked" in judge.page.locator("table.history").inner_text()
    booking.go("/arrests?last_name=rivera")
    booking.page.get_by_role("link", name=tracking).click()
    history = booking.page.locator("table.history").inner_text()
    assert "Arraigned" in history and "FJD magistrate · FJD" in history and "EDT" in history
    booking.shot("9-record-history")
