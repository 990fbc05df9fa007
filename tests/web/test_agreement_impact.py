"""The impact preview beside the ballot on the agreement page (issue 16): the counts, the fields
table, the disparate-impact table and the difference from the version in force for the version
awaiting votes, over a period picked with a GET form; for governance and oversight only."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from pars.permissions import Role
from tests.sharing import test_impact
from tests.sharing.conftest import agreement, approve, fbi, governors, propose
from tests.web.conftest import WebUser

# The sharing fixtures and the impact tests' known world, used here by name.
__all__ = ["agreement", "approve", "fbi", "governors", "propose"]
world = test_impact.world

SignedIn = Callable[[WebUser], TestClient]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def section(html: str) -> str:
    found = re.search(r'<section class="card impact".*?</section>', html, re.S)
    assert found, "the page shows no impact preview"
    return text_of(found.group(0))


def test_the_preview_stands_beside_the_ballot_with_exact_counts(
    signed_in: SignedIn, web_user: Callable[..., WebUser], world: dict[str, Any]
) -> None:
    browser = signed_in(web_user(Role.GOVERNANCE, agency="DAO"))
    page = browser.get(f"/agreements/{world['id']}")
    assert page.status_code == 200, page.text
    html = page.text
    ballot, preview, versions = (
        html.index("Vote yes: approve version 2"),
        html.index('id="impact"'),
        html.index("<h2>Versions</h2>"),
    )
    assert ballot < preview < versions
    shown = section(html)
    assert "Impact of version 2" in shown
    assert "Period 2025-03-18 to 2026-03-17" in shown
    assert "Arrests covered 3" in shown and "People covered 3" in shown
    for name, count in (("Charges", 3), ("Narrative", 2), ("Phone", 2), ("Race", 3)):
        assert f"{name} {count}" in shown
    # Groups of fewer than 11 people: no count, share or ratio to point at anyone.
    assert "Asian Not Hispanic or Latino fewer than 11 — fewer than 11 — —" in shown
    assert "Black or African American Hispanic or Latino fewer than 11 — 0 — —" in shown
    assert "Against version 1" in shown
    assert "Arrests newly covered 1" in shown and "Arrests no longer covered 2" in shown
    assert "Fields added Narrative, Phone, Race" in shown
    assert "Fields removed Arrest date and time, Custody and release, Identifiers (SID, PPN, FBI number)" in shown
    assert "What FBI received under version 1" in shown
    assert (
        "Queries 2 (1 refused: record missing or outside the agreement 1)" in shown and "Records disclosed 1" in shown
    )
    assert 'value="2025-03-18"' in html and 'value="2026-03-17"' in html
    assert "Peña" not in shown and "Smith" not in shown  # counts only


def test_the_period_picker_recounts_and_a_bad_period_is_explained(
    signed_in: SignedIn, web_user: Callable[..., WebUser], world: dict[str, Any]
) -> None:
    browser = signed_in(web_user(Role.OVERSIGHT, agency="CITY"))
    picked = browser.get(f"/agreements/{world['id']}", params={"from": "2025-01-01", "to": "2025-01-31"})
    shown = section(picked.text)
    assert "Period 2025-01-01 to 2025-01-31" in shown and "Arrests covered 1" in shown
    assert "Version 1 was not in force during this period." in shown
    wrong = browser.get(f"/agreements/{world['id']}", params={"from": "2026-03-10", "to": "2026-03-01"})
    assert wrong.status_code == 200
    shown = section(wrong.text)
    assert "must be after from" in shown and "Arrests covered" not in shown
    assert 'value="2026-03-10"' in wrong.text


def test_partners_see_no_preview_and_nothing_to_vote_on_means_none(
    signed_in: SignedIn,
    web_user: Callable[..., WebUser],
    world: dict[str, Any],
    agreement: Callable[..., dict[str, Any]],
    make_user: Callable[..., Any],
) -> None:
    partner = signed_in(web_user(Role.PARTNER, agency="FBI"))
    page = partner.get(f"/agreements/{world['id']}")
    assert page.status_code == 200 and 'id="impact"' not in page.text
    make_user(Role.PARTNER, agency="ATF")
    settled = agreement(agency="ATF")
    governance = signed_in(web_user(Role.GOVERNANCE, agency="DAO"))
    assert 'id="impact"' not in governance.get(f"/agreements/{settled['id']}").text
