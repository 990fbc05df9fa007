"""An agreement proposed and approved in a real browser (Debian's Chromium): a governance user of
one stakeholder proposes it, two others approve it, each in its own tab signed in with TOTP, and
the list shows it in force with its countdown. Screenshots go to the test's temporary folder:
1-propose-form, 2-proposed, 3-dao-voted, 4-fjd-approved-phone, 5-list-phone, 6-list-in-force; and
for an amendment and a termination: 7-amendment-diff, 8-amendment-diff-phone, 9-terminated."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pars.permissions import Role
from tests.conftest import User
from tests.sharing.conftest import agreement, approve, fbi, governors, propose
from tests.web.conftest import Browser, WebUser

# The sharing fixtures, used here by name (exported so that the linter sees them used).
__all__ = ["agreement", "approve", "fbi", "governors", "propose"]


def _no_sideways_scroll(tab: Browser) -> None:
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= 390


def test_propose_an_agreement_and_approve_it_with_two_stakeholders(
    open_browser: Callable[..., Browser], web_user: Callable[..., WebUser], fbi: User
) -> None:
    city, dao, fjd = (web_user(Role.GOVERNANCE, agency=code) for code in ("CITY", "DAO", "FJD"))

    proposer = open_browser()
    proposer.sign_in(city)
    proposer.page.get_by_role("link", name="Agreements").first.click()
    assert "No agreements yet." in proposer.page.inner_text("main")
    proposer.page.get_by_role("link", name="Propose an agreement").click()
    form = proposer.page
    form.get_by_label("Partner agency").select_option("FBI")
    form.get_by_label("Title", exact=True).fill("FBI violent crime task force")
    form.get_by_label("Document reference (optional)").fill("MOU-2026-FBI-09")
    form.get_by_label("First day").fill("2026-03-01")
    form.get_by_label("Last day (inclusive)").fill("2027-12-31")
    for purpose in ("Criminal investigation", "Fugitive apprehension"):
        form.get_by_label(purpose, exact=True).check()
    for field in ("Name", "Date of birth", "Charges", "Custody and release"):
        form.get_by_label(field, exact=True).check()
    assert form.get_by_label("SSN", exact=True).is_disabled()  # protected: not offered
    assert form.get_by_label("Civil immigration enforcement", exact=True).is_disabled()
    form.get_by_label("Grades", exact=True).fill("F1, F2, F3")
    form.get_by_label("Daily query limit (empty: no limit)").fill("300")
    proposer.shot("1-propose-form")
    form.get_by_role("button", name="Propose the agreement").click()

    found = re.search(r"/agreements/([0-9a-f-]{36})$", proposer.page.url)
    assert found, proposer.page.url
    path = f"/agreements/{found.group(1)}"
    text = proposer.page.inner_text("main")
    assert "Agreement with FBI proposed: it needs 2 stakeholder yes-votes." in text
    assert "FBI violent crime task force" in text and "proposed" in text
    # Proposing is not voting: the proposer's agency (a stakeholder) has its own vote still to cast.
    assert "Version 1 has 0 of the 2 yes-votes that approve it." in text
    proposer.shot("2-proposed")

    first = open_browser()
    first.sign_in(dao)
    first.go(path)
    first.page.get_by_role("button", name="Vote yes: approve version 1").click()
    text = first.page.inner_text("main")
    assert "DAO voted yes on version 1 (1 of 2 yes-votes)." in text
    assert "You cannot vote: DAO has already voted yes on version 1." in text
    assert "not in force" in text
    first.shot("3-dao-voted")

    second = open_browser(phone=True)
    second.sign_in(fjd)
    second.go(path)
    second.page.get_by_role("button", name="Vote yes: approve version 1").click()
    text = second.page.inner_text("main")
    assert "FJD voted yes on version 1 (2 of 2 yes-votes). Quorum reached: version 1 is approved." in text
    assert "in force now" in text
    votes = second.page.locator("table.votes tbody tr")
    assert votes.count() == 2
    assert "DAO" in votes.nth(0).inner_text() and "FJD" in votes.nth(1).inner_text()
    _no_sideways_scroll(second)
    second.shot("4-fjd-approved-phone")
    second.go("/agreements")
    _no_sideways_scroll(second)
    second.shot("5-list-phone")

    proposer.go("/agreements")
    row = proposer.page.locator('tr[data-agency="FBI"]')
    assert row.locator(".badge").first.inner_text() == "in force"
    assert "2026-03-01 to 2027-12-31" in row.inner_text()
    countdown = row.locator("[data-countdown]")
    assert countdown.get_attribute("data-countdown") == "2028-01-01T05:00:00+00:00"
    # The script counts from the browser's own clock; the page's text works without it.
    assert re.fullmatch(r"\d+ d \d+ h left|\d+ days? left", countdown.inner_text()), countdown.inner_text()
    proposer.shot("6-list-in-force")


def test_an_amendment_side_by_side_and_a_termination_that_asks_first(
    open_browser: Callable[..., Browser], web_user: Callable[..., WebUser], agreement: Callable[..., dict[str, Any]]
) -> None:
    made = agreement()  # FBI, approved by DAO and FJD through the API
    path = f"/agreements/{made['id']}"
    tab = open_browser()
    tab.sign_in(web_user(Role.GOVERNANCE, agency="CITY"))
    tab.go(path)
    tab.page.get_by_role("link", name="Propose an amendment or renewal").click()
    form = tab.page
    assert form.get_by_label("Last day (inclusive)").input_value() == "2026-08-31"  # from the current terms
    form.get_by_label("Last day (inclusive)").fill("2027-08-31")
    form.get_by_label("Fugitive apprehension", exact=True).uncheck()
    form.get_by_label("Prosecution", exact=True).check()
    form.get_by_label("Custody and release", exact=True).uncheck()
    form.get_by_role("button", name="Propose the new version").click()
    assert "Version 2 proposed" in tab.page.inner_text("main")
    diff = tab.page.locator("table.diff")
    purposes = diff.locator("tr", has_text="Purposes")
    assert purposes.locator("ins").all_inner_texts() == ["Prosecution"]
    assert purposes.locator("del").all_inner_texts() == ["Fugitive apprehension"]
    assert "(added)" in purposes.inner_text() and "(removed)" in purposes.inner_text()
    last_day = diff.locator("tr", has_text="Last day")
    assert last_day.locator("del").inner_text() == "2026-08-31" and last_day.locator("ins").inner_text() == "2027-08-31"
    assert "no change" in diff.locator("tr", has_text="First day").inner_text()
    diff.scroll_into_view_if_needed()
    tab.shot("7-amendment-diff")

    phone = open_browser(phone=True)
    phone.sign_in(web_user(Role.GOVERNANCE, agency="DAO"))
    phone.go(path)
    _no_sideways_scroll(phone)
    phone.shot("8-amendment-diff-phone")

    # Terminating asks first (data-confirm): dismissing the question sends nothing.
    tab.go(path)
    tab.page.get_by_label("Reason for terminating").fill("Council did not renew")
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    tab.page.once("dialog", dismiss)
    tab.page.get_by_role("button", name="Terminate the agreement").click()
    assert asked == ["Terminate the agreement with FBI for good? This cannot be undone."]
    assert "in force" in tab.page.locator(".lead .badge").inner_text()
    tab.page.once("dialog", lambda dialog: dialog.accept())
    tab.page.get_by_role("button", name="Terminate the agreement").click()
    text = tab.page.inner_text("main")
    assert "Agreement terminated now: this cannot be undone." in text
    assert tab.page.locator(".lead .badge").inner_text() == "terminated"
    assert "Terminated. Reason: Council did not renew" in text
    tab.shot("9-terminated")
