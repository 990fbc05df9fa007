"""The home page opens each role on what waits for it, with counts: arrests waiting for a
charging decision, cases waiting for arraignment (and how many are overdue), people waiting to be
released or committed, agreement versions waiting for the agency's vote, alerts not reviewed and
complaints without an outcome. The counts follow the work: a decision takes one off the list."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from pars.permissions import Role
from tests.conftest import User
from tests.web import partner_world
from tests.web.conftest import WebUser
from tests.web.partner_world import World
from tests.web.test_agreements import text_of

# The shared fixtures (tests/web/partner_world.py), made visible to pytest in this module.
agreement = partner_world.agreement
approve = partner_world.approve
fbi = partner_world.fbi
governors = partner_world.governors
propose = partner_world.propose
world = partner_world.world

SignedIn = Callable[[WebUser], TestClient]
Book = Callable[..., dict[str, Any]]


def worklists(client: TestClient) -> dict[str, str]:
    """Each worklist's label → its words (count, label, urgency, detail), read off the home page."""
    html = client.get("/").text
    found: dict[str, str] = {}
    for item in re.findall(r'<li class="card[^"]*">(.*?)</li>', html, re.S):
        label = re.search(r'<span class="what">(.*?)</span>', item)
        assert label, item
        found[label.group(1).replace("&#39;", "'")] = text_of(item).strip()
    return found


def count_of(words: str) -> int:
    return int(words.split(maxsplit=1)[0])


def test_each_city_role_sees_its_worklists_with_counts(
    book: Book, walk: Book, web_user: Callable[..., WebUser], signed_in: SignedIn, client: TestClient, charging: User
) -> None:
    late = book(arrest={"arrested_at": "2026-03-15T09:00:00-04:00", "district": "12"})  # ~2 days before the clock
    book()
    walk("charges_approved")
    walk("arraigned")
    declined = book()
    response = client.post(
        f"/api/v1/arrests/{declined['id']}/charging-decision", json={"decision": "declined"}, headers=charging.headers
    )
    assert response.status_code == 200, response.text
    ada = signed_in(web_user(Role.CHARGING, agency="DAO"))
    lists = worklists(ada)
    assert list(lists) == ["Waiting for a charging decision"], lists
    waiting = lists["Waiting for a charging decision"]
    assert count_of(waiting) == 2 and "oldest waiting" in waiting
    assert 'href="/charging"' in ada.get("/").text

    judge = signed_in(web_user(Role.MAGISTRATE, agency="FJD"))
    lists = worklists(judge)
    assert count_of(lists["Waiting for arraignment"]) == 1
    assert "overdue" not in lists["Waiting for arraignment"]

    officer = signed_in(web_user(Role.BOOKING, agency="PPD"))
    lists = worklists(officer)
    assert count_of(lists["Waiting to be released or committed"]) == 2  # one declined, one arraigned
    assert 'href="/custody"' in officer.get("/").text
    assert "Book an arrest" in officer.get("/").text  # the other pages stay one click away

    # The work moves the counts: approving the late arrest sends it to the docket, overdue.
    response = client.post(
        f"/api/v1/arrests/{late['id']}/charging-decision", json={"decision": "approved"}, headers=charging.headers
    )
    assert response.status_code == 200, response.text
    assert count_of(worklists(ada)["Waiting for a charging decision"]) == 1
    docket = worklists(judge)["Waiting for arraignment"]
    assert count_of(docket) == 2 and "1 overdue (more than 24 hours)" in docket


def test_governance_and_oversight_see_votes_alerts_and_complaints_waiting(
    world: World, web_user: Callable[..., WebUser], signed_in: SignedIn, propose: Callable[..., dict[str, Any]]
) -> None:
    propose(effective_from="2027-01-01T00:00:00-05:00", expires_at="2027-06-01T00:00:00-04:00")
    dao = signed_in(web_user(Role.GOVERNANCE, agency="DAO"))
    votes = worklists(dao)["Agreements waiting for your agency's vote"]
    assert count_of(votes) >= 1
    ppd = signed_in(web_user(Role.GOVERNANCE, agency="PPD"))  # not a stakeholder: nothing to vote on
    assert count_of(worklists(ppd)["Agreements waiting for your agency's vote"]) == 0

    oversight = signed_in(web_user(Role.OVERSIGHT, agency="CITY"))
    lists = worklists(oversight)
    assert count_of(lists["Alerts not yet reviewed"]) == 3  # the world's three alerts
    assert count_of(lists["Complaints without an outcome"]) == 0
    assert 'href="/oversight/alerts?status=open"' in oversight.get("/").text


def test_a_partner_home_page_lists_its_pages_and_no_city_work(
    world: World, web_user: Callable[..., WebUser], signed_in: SignedIn
) -> None:
    partner = signed_in(web_user(Role.PARTNER, agency="FBI"))
    html = partner.get("/").text
    assert "Waiting for you" not in html
    assert 'href="/partner/search"' in html
