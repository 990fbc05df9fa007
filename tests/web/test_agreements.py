"""The agreements pages: the list with states and countdowns, an agreement's versions, votes,
history and what each version changes, and the governance forms (propose, vote, amend, suspend,
lift, terminate) with their errors, role refusals and CSRF. Agreements are set up through the API
(tests/sharing fixtures) and checked through it after each form."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from pars.permissions import Role
from tests.conftest import User, audit_actions
from tests.sharing.conftest import TERMS, agreement, approve, fbi, governors, propose
from tests.web.conftest import WebUser, csrf_of

# The sharing fixtures, used here by name (exported so that the linter sees them used).
__all__ = ["agreement", "approve", "fbi", "governors", "propose"]

SignedIn = Callable[[WebUser], TestClient]
MakeWebUser = Callable[..., WebUser]

# A form as a browser posts it: lists are repeated keys.
GOOD_FORM: dict[str, Any] = {
    "agency": "FBI",
    "title": "FBI fugitive task force",
    "document_ref": "MOU-2026-FBI-07",
    "first_day": "2026-04-01",
    "last_day": "2027-03-31",
    "purposes": ["criminal_investigation", "fugitive_apprehension"],
    "channels": ["query", "feed"],
    "fields": ["person.name", "person.dob", "charges"],
    "grades": "F1, f2",
    "titles": "18",
    "sections": "",
    "statuses": ["booked", "arraigned"],
    "case_reference": "required",
    "quota": "250",
}


def row_of(html: str, agency: str) -> str:
    found = re.search(rf'<tr data-agency="{agency}">(.*?)</tr>', html, re.S)
    assert found, f"no row for {agency}"
    return re.sub(r"\s+", " ", found.group(1))


def text_of(html: str) -> str:
    """The page's words, without tags: what a reader (or a screen reader) gets."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def api_agreements(client: TestClient, who: User) -> list[dict[str, Any]]:
    response = client.get("/api/v1/agreements", headers=who.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def post_form(browser: TestClient, path: str, form_page: str, data: dict[str, Any]) -> Any:
    return browser.post(path, data={**data, "csrf": csrf_of(browser.get(form_page).text)})


@pytest.fixture
def gov(web_user: MakeWebUser, signed_in: SignedIn) -> Callable[[str], TestClient]:
    """A browser signed in as a governance user of the given agency."""

    def make(agency: str) -> TestClient:
        return signed_in(web_user(Role.GOVERNANCE, agency=agency))

    return make


# --- the list -------------------------------------------------------------------------------------


def test_the_list_shows_each_agreement_with_its_state_window_and_time_left(
    client: TestClient,
    gov: Callable[[str], TestClient],
    make_user: Callable[..., User],
    governors: dict[str, User],
    agreement: Callable[..., dict[str, Any]],
    propose: Callable[..., dict[str, Any]],
) -> None:
    for code in ("ATF", "ICE", "DEA", "USMS"):
        make_user(Role.PARTNER, agency=code)
    agreement()  # FBI, in force
    propose(agency="ATF", purposes=["firearms_investigation"])
    suspended = agreement(agency="ICE")
    reply = client.post(
        f"/api/v1/agreements/{suspended['id']}/suspension", json={"reason": "audit"}, headers=governors["DAO"].headers
    )
    assert reply.status_code == 200
    agreement(agency="DEA", effective_from="2025-01-01T00:00:00-05:00", expires_at="2026-01-01T00:00:00-05:00")
    ended = agreement(agency="USMS")
    reply = client.post(
        f"/api/v1/agreements/{ended['id']}/termination",
        json={"effective_at": "2026-03-17T15:00:00-04:00", "reason": "not renewed"},
        headers=governors["CITY"].headers,
    )
    assert reply.status_code == 200

    page = gov("CITY").get("/agreements")
    assert page.status_code == 200
    assert '<a class="button" href="/agreements/new">Propose an agreement</a>' in page.text
    fbi_row = row_of(page.text, "FBI")
    assert '<span class="badge good">in force</span>' in fbi_row
    assert (
        "FBI Philadelphia arrest data sharing" in fbi_row and "Criminal investigation, Fugitive apprehension" in fbi_row
    )
    # Expires 2026-09-01 00:00 EDT (exclusive): the last day is August 31, city time.
    assert "2026-01-01 to 2026-08-31" in text_of(fbi_row)
    # From 2026-03-17 15:00 EDT to 2026-09-01 00:00 EDT: 167 days and 9 hours.
    assert 'data-countdown="2026-09-01T04:00:00+00:00">167 days left</span>' in fbi_row
    assert "until 2026-09-01 00:00 EDT" in fbi_row
    atf = row_of(page.text, "ATF")
    assert '<span class="badge warn">proposed</span>' in atf and "Firearms investigation" in atf
    assert "data-countdown" not in atf and "not in force" in atf
    assert '<span class="badge bad">suspended</span>' in row_of(page.text, "ICE")
    dea = row_of(page.text, "DEA")
    assert '<span class="badge bad">expired</span>' in dea and "2025-01-01 to 2025-12-31" in text_of(dea)
    usms = row_of(page.text, "USMS")
    assert '<span class="badge bad">terminated</span>' in usms and "ended on 2026-03-17" in usms
    assert "data-countdown" not in usms


# --- one agreement: terms, votes, history, the diff -------------------------------------------------


def test_the_agreement_page_shows_terms_votes_and_what_a_new_version_changes(
    client: TestClient,
    gov: Callable[[str], TestClient],
    governors: dict[str, User],
    agreement: Callable[..., dict[str, Any]],
) -> None:
    made = agreement()
    changed = {
        key: value for key, value in TERMS.items() if key != "agency"
    } | {
        "purposes": ["criminal_investigation", "prosecution"],
        "fields": ["person.name", "person.dob", "person.identifiers", "arrest.arrested_at", "charges", "arrest.district"],
        "scope": {"grades": ["F1", "F2"], "titles": [18], "sections": None, "statuses": ["arraigned"]},
        "expires_at": "2027-09-01T00:00:00-04:00",
        "daily_query_limit": None,
    }  # fmt: skip
    reply = client.post(f"/api/v1/agreements/{made['id']}/versions", json=changed, headers=governors["CITY"].headers)
    assert reply.status_code == 201, reply.text

    page = gov("CITY").get(f"/agreements/{made['id']}")
    assert page.status_code == 200
    html = page.text
    words = text_of(html)
    assert "Version 1 approved" in words and "in force now" in words
    assert "Version 2 proposed" in words
    # Version 1's terms and its votes: agency, user, vote, local time.
    assert (
        "Name, Date of birth, Identifiers (SID, PPN, FBI number), Arrest date and time, Charges, Custody and release"
        in words
    )
    assert "person.identifiers" not in words and "arrest.arrested_at" not in words
    assert "Grades: F1, F2, F3, M1, M2; Titles: 18; Sections: any; Statuses: any" in words
    assert "2026-01-01 to 2026-08-31" in words and "500" in words
    votes = re.findall(r"<tr>\s*<td>(\w+)</td>\s*<td>([^<]+)</td>\s*<td><span class=\"badge good\">yes</span></td>"
                       r"\s*<td>([^<]+)</td>", html)  # fmt: skip
    assert votes == [
        ("DAO", "DAO governance", "2026-03-17 15:00 EDT"),
        ("FJD", "FJD governance", "2026-03-17 15:00 EDT"),
    ]
    # Side by side: added and removed in <ins>/<del> and in words.
    diff = html[html.index("What version 2 changes from version 1") :]
    assert '<ins>Prosecution</ins> <span class="mark">(added)</span>' in diff
    assert '<del>Fugitive apprehension</del> <span class="mark">(removed)</span>' in diff
    assert '<ins>Police district</ins> <span class="mark">(added)</span>' in diff
    assert '<del>Custody and release</del> <span class="mark">(removed)</span>' in diff
    assert '<del>F3</del> <span class="mark">(removed)</span>' in diff
    assert '<del>any (no restriction)</del> <span class="mark">(was)</span>' in diff
    assert '<ins>Arraigned</ins> <span class="mark">(added)</span>' in diff
    assert '<del>2026-08-31</del> <span class="mark">(was)</span>' in diff
    assert '<ins>2027-08-31</ins> <span class="mark">(now)</span>' in diff
    assert '<del>500 a day</del> <span class="mark">(was)</span>' in diff and "<ins>no limit</ins>" in diff
    first_day_row = re.search(r"<th scope=\"row\">First day</th>(.*?)</tr>", diff, re.S)
    assert first_day_row and "no change" in first_day_row.group(1) and "<ins>" not in first_day_row.group(1)
    history = text_of(html[html.index("<h2>History</h2>") :])
    assert "2026-03-17 15:00 EDT Version 1 proposed." in history
    assert "Version 1 approved by quorum." in history and "Version 2 proposed." in history


def test_an_unknown_or_malformed_agreement_is_a_404_page(gov: Callable[[str], TestClient]) -> None:
    browser = gov("CITY")
    for path in ("/agreements/00000000-0000-0000-0000-000000000000", "/agreements/not-an-id"):
        page = browser.get(path)
        assert page.status_code == 404
        assert "no such agreement" in page.text and "Traceback" not in page.text


# --- proposing --------------------------------------------------------------------------------------


def test_the_propose_form_offers_the_vocabulary_and_marks_what_is_not_allowed(
    gov: Callable[[str], TestClient], fbi: User
) -> None:
    page = gov("CITY").get("/agreements/new")
    assert page.status_code == 200
    html = page.text
    assert '<option value="FBI">FBI · FBI agency</option>' in html
    assert '<option value="CITY"' not in html  # city agencies are not parties
    assert 'name="fields" value="person.name"' in html and 'name="purposes" value="prosecution"' in html
    for protected in ("person.ssn", "person.citizenship", "person.place_of_birth", "victims", "witnesses"):
        assert f'name="fields" value="{protected}"' not in html
        assert f'<span class="badge bad" id="field-{protected}-barred">protected: not allowed</span>' in html
    assert 'name="purposes" value="civil_immigration_enforcement"' not in html
    assert "prohibited: not allowed" in html
    assert 'id="first_day" name="first_day" value="2026-03-17"' in html  # today, city time
    for label in (
        "Partner agency",
        "Title",
        "First day",
        "Last day (inclusive)",
        "Daily query limit (empty: no limit)",
    ):
        assert f">{label}</label>" in html


def test_proposing_an_agreement_from_the_form(
    client: TestClient, gov: Callable[[str], TestClient], governors: dict[str, User], fbi: User, session: Session
) -> None:
    browser = gov("CITY")
    reply = post_form(browser, "/agreements/new", "/agreements/new", GOOD_FORM)
    assert reply.status_code == 303, reply.text
    [made] = api_agreements(client, governors["DAO"])
    assert reply.headers["location"] == f"/agreements/{made['id']}"
    version = made["versions"][0]
    assert version["status"] == "proposed" and made["agency"] == "FBI"
    # Whole city days: from the start of April 1 to the end of March 31, 2027 (EDT both times).
    assert version["effective_from"] == "2026-04-01T04:00:00+00:00"
    assert version["expires_at"] == "2027-04-01T04:00:00+00:00"
    assert version["scope"] == {
        "grades": ["F1", "F2"],
        "titles": [18],
        "sections": None,
        "statuses": ["booked", "arraigned"],
    }
    assert version["daily_query_limit"] == 250 and version["require_case_reference"] is True
    assert version["fields"] == ["person.name", "person.dob", "charges"]
    shown = browser.get(reply.headers["location"])
    assert "Agreement with FBI proposed: it needs 2 stakeholder yes-votes." in shown.text
    assert '<span class="badge warn">proposed</span>' in shown.text
    assert ("agreement.propose", "ok") in audit_actions(session)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"fields": ["person.name", "person.ssn"]}, "fields", "SSN is protected: no agreement may include it"),
        (
            {"purposes": ["civil_immigration_enforcement"]},
            "purposes",
            "Civil immigration enforcement is a prohibited purpose",
        ),
        ({"last_day": "2026-03-31"}, "last_day", "the last day cannot be before the first day"),
        ({"first_day": "April 1"}, "first_day", "enter a date as YYYY-MM-DD"),
        ({"purposes": []}, "purposes", "choose at least one"),
        ({"titles": "18, title 75"}, "titles", "list title numbers, e.g. 18, 75"),
        ({"quota": "0"}, "quota", "must be at least 1"),
        ({"agency": "DAO"}, "agency", "agreements are made with partner agencies only"),
    ],
)
def test_a_refused_proposal_shows_the_message_at_its_field_and_changes_nothing(
    client: TestClient,
    gov: Callable[[str], TestClient],
    governors: dict[str, User],
    fbi: User,
    change: dict[str, Any],
    field: str,
    message: str,
) -> None:
    reply = post_form(gov("CITY"), "/agreements/new", "/agreements/new", {**GOOD_FORM, **change})
    assert reply.status_code == 422
    html = reply.text
    assert f'<p class="field-error" id="{field}-error">{message}</p>' in html
    assert f'aria-describedby="{field}-error"' in html
    assert 'id="error-summary"' in html and f'href="#{field}"' in html  # the summary links to the field
    assert "There is a problem" in html and "<title>Error: Propose an agreement" in html
    assert 'value="FBI fugitive task force"' in html  # what was typed is kept
    assert "Traceback" not in html
    assert api_agreements(client, governors["DAO"]) == []


def test_an_overlapping_proposal_is_refused_with_the_conflict_at_the_window(
    client: TestClient, gov: Callable[[str], TestClient], governors: dict[str, User], agreement: Callable[..., Any]
) -> None:
    agreement()
    reply = post_form(gov("CITY"), "/agreements/new", "/agreements/new", GOOD_FORM)
    assert reply.status_code == 409
    assert '<p class="field-error" id="window-error">these days overlap version 1 of another agreement' in reply.text
    assert len(api_agreements(client, governors["DAO"])) == 1


# --- voting -----------------------------------------------------------------------------------------


def test_stakeholders_vote_from_the_page_until_quorum_approves(
    client: TestClient,
    gov: Callable[[str], TestClient],
    governors: dict[str, User],
    propose: Callable[..., dict[str, Any]],
    session: Session,
) -> None:
    made = propose()
    path = f"/agreements/{made['id']}"
    dao = gov("DAO")
    page = dao.get(path)
    assert "Version 1 has 0 of the 2 yes-votes that approve it." in text_of(page.text)
    assert '<button type="submit" name="vote" value="yes">Vote yes: approve version 1</button>' in page.text
    reply = dao.post(f"{path}/votes", data={"vote": "yes", "csrf": csrf_of(page.text)})
    assert reply.status_code == 303 and reply.headers["location"] == path
    page = dao.get(path)
    assert "DAO voted yes on version 1 (1 of 2 yes-votes)." in page.text
    assert "You cannot vote: DAO has already voted yes on version 1." in page.text
    assert 'name="vote"' not in page.text
    again = dao.post(f"{path}/votes", data={"vote": "yes", "csrf": csrf_of(page.text)})
    assert again.status_code == 409
    assert "There is a problem" in again.text and "DAO has already voted yes on version 1" in again.text

    fjd = gov("FJD")
    page = fjd.get(path)
    reply = fjd.post(f"{path}/votes", data={"vote": "yes", "csrf": csrf_of(page.text)})
    assert reply.status_code == 303
    page = fjd.get(path)
    assert "Quorum reached: version 1 is approved." in page.text
    assert '<span class="badge good">in force</span>' in page.text
    [shown] = api_agreements(client, governors["CITY"])
    assert shown["in_force"] is True and [v["agency"] for v in shown["versions"][0]["votes"]] == ["DAO", "FJD"]
    assert audit_actions(session).count(("agreement.vote", "ok")) == 2


def test_a_city_agency_that_is_not_a_stakeholder_is_told_why_it_cannot_vote(
    client: TestClient,
    gov: Callable[[str], TestClient],
    governors: dict[str, User],
    propose: Callable[..., dict[str, Any]],
) -> None:
    made = propose()
    path = f"/agreements/{made['id']}"
    ppd = gov("PPD")
    page = ppd.get(path)
    assert "You cannot vote: your agency (PPD) is not a stakeholder" in page.text
    assert "You cannot suspend it: your agency (PPD) is not a stakeholder" in page.text
    refused = ppd.post(f"{path}/votes", data={"vote": "yes", "csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    assert "your agency (PPD) is not a stakeholder: only stakeholder agencies vote and suspend" in refused.text
    assert api_agreements(client, governors["CITY"])[0]["versions"][0]["votes"] == []


def test_no_votes_that_put_quorum_out_of_reach_reject_the_version(
    client: TestClient,
    gov: Callable[[str], TestClient],
    governors: dict[str, User],
    propose: Callable[..., dict[str, Any]],
) -> None:
    made = propose()
    path = f"/agreements/{made['id']}"
    for code in ("DAO", "FJD"):  # three stakeholders, quorum 2: two no-votes leave one possible yes
        browser = gov(code)
        reply = browser.post(f"{path}/votes", data={"vote": "no", "csrf": csrf_of(browser.get(path).text)})
        assert reply.status_code == 303
    page = browser.get(path)
    assert "FJD voted no on version 1 (0 of 2 yes-votes). Version 1 is rejected" in page.text
    assert '<span class="badge bad">rejected</span>' in page.text
    assert "Version 1 rejected: quorum out of reach." in page.text
    assert "You cannot vote: no version is waiting for votes." in page.text
    assert api_agreements(client, governors["CITY"])[0]["versions"][0]["status"] == "rejected"


# --- amending ---------------------------------------------------------------------------------------


def test_an_amendment_starts_from_the_current_terms_and_becomes_a_new_version(
    client: TestClient, gov: Callable[[str], TestClient], governors: dict[str, User], agreement: Callable[..., Any]
) -> None:
    made = agreement()
    path = f"/agreements/{made['id']}"
    browser = gov("CITY")
    assert f'href="{path}/versions/new">Propose an amendment or renewal</a>' in browser.get(path).text
    form = browser.get(f"{path}/versions/new")
    assert form.status_code == 200
    html = form.text
    assert 'value="FBI Philadelphia arrest data sharing"' in html
    assert 'name="fields" value="custody" checked' in html and 'name="fields" value="narrative">' in html
    assert 'name="purposes" value="fugitive_apprehension" checked' in html
    assert 'name="first_day" value="2026-01-01"' in html and 'name="last_day" value="2026-08-31"' in html
    assert 'value="F1, F2, F3, M1, M2"' in html and 'name="quota" value="500"' in html
    assert 'name="agency"' not in html  # the parties do not change
    renewal = {
        "title": "FBI Philadelphia arrest data sharing (renewed)",
        "first_day": "2026-01-01",
        "last_day": "2027-08-31",
        "purposes": ["criminal_investigation"],
        "channels": ["query"],
        "fields": ["person.name", "charges"],
        "grades": "F1",
        "case_reference": "required",
    }
    reply = browser.post(f"{path}/versions", data={**renewal, "csrf": csrf_of(html)})
    assert reply.status_code == 303, reply.text
    page = browser.get(path)
    assert "Version 2 proposed: it takes effect once 2 stakeholders vote yes." in page.text
    assert '<ins>2027-08-31</ins> <span class="mark">(now)</span>' in page.text
    [shown] = api_agreements(client, governors["DAO"])
    assert [v["status"] for v in shown["versions"]] == ["approved", "proposed"]
    assert shown["versions"][1]["expires_at"] == "2027-09-01T04:00:00+00:00"

    refused = browser.post(
        f"{path}/versions", data={**renewal, "fields": ["person.name", "witnesses"], "csrf": csrf_of(html)}
    )
    assert refused.status_code == 422
    assert (
        '<p class="field-error" id="fields-error">Witnesses is protected: no agreement may include it</p>'
        in refused.text
    )
    assert len(api_agreements(client, governors["DAO"])[0]["versions"]) == 2


# --- suspending, lifting, terminating ---------------------------------------------------------------


def test_a_suspension_needs_a_reason_and_lifts_at_quorum(
    client: TestClient, gov: Callable[[str], TestClient], governors: dict[str, User], agreement: Callable[..., Any]
) -> None:
    made = agreement()
    path = f"/agreements/{made['id']}"
    dao = gov("DAO")
    page = dao.get(path)
    empty = dao.post(f"{path}/suspension", data={"reason": "  ", "csrf": csrf_of(page.text)})
    assert empty.status_code == 422
    assert '<p class="field-error" id="suspend-reason-error">this is required</p>' in empty.text
    assert 'aria-invalid="true" aria-describedby="suspend-reason-error"' in empty.text
    assert api_agreements(client, governors["CITY"])[0]["suspended"] is False

    asked = dao.post(f"{path}/suspension", data={"reason": "Audit of March queries", "csrf": csrf_of(page.text)})
    assert asked.status_code == 200  # the confirmation step: nothing is suspended yet
    assert "All disclosure to" in asked.text and "Yes, suspend now" in asked.text
    assert api_agreements(client, governors["CITY"])[0]["suspended"] is False
    reply = dao.post(
        f"{path}/suspension", data={"reason": "Audit of March queries", "confirm": "yes", "csrf": csrf_of(page.text)}
    )
    assert reply.status_code == 303
    page = dao.get(path)
    words = text_of(page.text)
    assert "Agreement suspended: nothing is disclosed under it" in words
    assert "suspended since 2026-03-17 15:00 EDT: Audit of March queries. 0 of 2 stakeholder votes to lift" in words
    assert "Suspended. Reason: Audit of March queries" in words  # the history
    assert "data-countdown" not in page.text  # not in force: no countdown

    assert dao.post(f"{path}/suspension/lift", data={"csrf": csrf_of(page.text)}).status_code == 303
    page = dao.get(path)
    assert "DAO voted to lift the suspension; it lifts at 2 votes." in page.text
    assert "You cannot vote to lift it: DAO has already voted to lift this suspension." in page.text
    again = dao.post(f"{path}/suspension/lift", data={"csrf": csrf_of(page.text)})
    assert again.status_code == 409
    assert "There is a problem" in again.text and "DAO has already voted to lift this suspension" in again.text
    fjd = gov("FJD")
    assert fjd.post(f"{path}/suspension/lift", data={"csrf": csrf_of(fjd.get(path).text)}).status_code == 303
    page = fjd.get(path)
    assert "Suspension lifted: quorum of stakeholders voted to lift it." in page.text
    assert '<span class="badge good">in force</span>' in page.text
    assert api_agreements(client, governors["CITY"])[0]["suspended"] is False


def test_terminating_asks_for_confirmation_and_a_reason_and_ends_the_agreement(
    client: TestClient, gov: Callable[[str], TestClient], governors: dict[str, User], agreement: Callable[..., Any]
) -> None:
    made = agreement()
    path = f"/agreements/{made['id']}"
    ppd = gov("PPD")  # any governance user may terminate, stakeholder or not
    page = ppd.get(path)
    assert 'data-confirm="Terminate the agreement with FBI for good? This cannot be undone."' in page.text
    past = ppd.post(
        f"{path}/termination", data={"reason": "ended", "last_day": "2026-03-01", "csrf": csrf_of(page.text)}
    )
    assert past.status_code == 422
    assert (
        '<p class="field-error" id="terminate-last-day-error">is in the past: a termination takes effect now or later</p>'
        in past.text
    )
    assert 'value="2026-03-01"' in past.text and ">ended</textarea>" in past.text
    assert api_agreements(client, governors["CITY"])[0]["terminated_at"] is None

    reply = ppd.post(f"{path}/termination", data={"reason": "Not renewed by council", "csrf": csrf_of(page.text)})
    assert reply.status_code == 303
    page = ppd.get(path)
    words = text_of(page.text)
    assert "Agreement terminated now: this cannot be undone." in words
    assert "terminated" in words and "Terminated. Reason: Not renewed by council" in words
    assert "You cannot terminate it: a termination is already recorded." in words
    assert "You cannot amend it: a termination is recorded" in words
    [shown] = api_agreements(client, governors["CITY"])
    assert shown["terminated_at"] == "2026-03-17T19:00:00+00:00" and shown["in_force"] is False


def test_a_termination_on_a_later_day_keeps_it_in_force_until_then(
    gov: Callable[[str], TestClient], agreement: Callable[..., Any]
) -> None:
    made = agreement()
    path = f"/agreements/{made['id']}"
    browser = gov("CITY")
    page = browser.get(path)
    reply = browser.post(
        f"{path}/termination", data={"reason": "winding down", "last_day": "2026-03-31", "csrf": csrf_of(page.text)}
    )
    assert reply.status_code == 303
    page = browser.get(path)
    assert "Agreement terminated at the end of 2026-03-31" in page.text
    assert "terminates on 2026-04-01" in page.text
    # The countdown runs to the termination, not to the version's expiry.
    assert 'data-countdown="2026-04-01T04:00:00+00:00">14 days left</span>' in page.text


# --- who may see and do what --------------------------------------------------------------------------


def test_a_booking_user_gets_403_pages_and_cannot_post(
    client: TestClient,
    web_user: MakeWebUser,
    signed_in: SignedIn,
    governors: dict[str, User],
    propose: Callable[..., dict[str, Any]],
    session: Session,
) -> None:
    made = propose()
    booking = signed_in(web_user(Role.BOOKING))
    for path in (
        "/agreements",
        f"/agreements/{made['id']}",
        "/agreements/new",
        f"/agreements/{made['id']}/versions/new",
    ):
        page = booking.get(path)
        assert page.status_code == 403, path
        assert "your roles do not allow this page" in page.text
    token = csrf_of(booking.get("/").text)
    assert booking.post("/agreements/new", data={**GOOD_FORM, "csrf": token}).status_code == 403
    assert booking.post(f"/agreements/{made['id']}/votes", data={"vote": "yes", "csrf": token}).status_code == 403
    assert booking.post(f"/agreements/{made['id']}/termination", data={"reason": "x", "csrf": token}).status_code == 403
    [shown] = api_agreements(client, governors["CITY"])
    assert shown["versions"][0]["votes"] == [] and shown["terminated_at"] is None
    assert ("auth.denied", "refused") in audit_actions(session)


def test_oversight_reads_agreements_but_sees_no_forms(
    client: TestClient,
    web_user: MakeWebUser,
    signed_in: SignedIn,
    governors: dict[str, User],
    agreement: Callable[..., Any],
) -> None:
    made = agreement()
    oversight = signed_in(web_user(Role.OVERSIGHT, agency="CITY"))
    listing = oversight.get("/agreements")
    assert listing.status_code == 200
    assert "in force" in row_of(listing.text, "FBI") and "Propose an agreement" not in listing.text
    page = oversight.get(f"/agreements/{made['id']}")
    assert page.status_code == 200
    assert "You can read this agreement." in page.text and "DAO governance" in page.text
    assert re.findall(r'<form method="post" action="([^"]+)"', page.text) == ["/signout"]
    assert "What you can do" not in page.text
    assert oversight.get("/agreements/new").status_code == 403
    refused = oversight.post(f"/agreements/{made['id']}/suspension", data={"reason": "x", "csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    assert api_agreements(client, governors["CITY"])[0]["suspended"] is False


def test_a_form_posted_without_its_csrf_token_is_refused(
    client: TestClient, gov: Callable[[str], TestClient], governors: dict[str, User], propose: Callable[..., Any]
) -> None:
    made = propose()
    browser = gov("DAO")
    browser.get("/agreements/new")  # the browser holds a CSRF cookie; the forms below do not send it
    for path, data in (
        ("/agreements/new", GOOD_FORM),
        (f"/agreements/{made['id']}/votes", {"vote": "yes"}),
        (f"/agreements/{made['id']}/suspension", {"reason": "x"}),
    ):
        reply = browser.post(path, data=data)
        assert reply.status_code == 403, path
        assert "This form could not be accepted" in reply.text
    wrong = browser.post(f"/agreements/{made['id']}/votes", data={"vote": "yes", "csrf": "x" * 43})
    assert wrong.status_code == 403
    [shown] = api_agreements(client, governors["CITY"])
    assert shown["versions"][0]["votes"] == [] and shown["suspended"] is False


def test_a_partner_sees_only_its_own_agencys_agreements_and_no_one_by_name(
    web_user: MakeWebUser,
    signed_in: SignedIn,
    make_user: Callable[..., User],
    agreement: Callable[..., Any],
    propose: Callable[..., Any],
) -> None:
    make_user(Role.PARTNER, agency="ATF")
    own = agreement()
    other = propose(agency="ATF", purposes=["firearms_investigation"])
    partner = signed_in(web_user(Role.PARTNER, agency="FBI"))
    listing = partner.get("/agreements")
    assert listing.status_code == 200
    assert "The agreements between FBI and the city." in listing.text
    assert "in force" in row_of(listing.text, "FBI")
    assert 'data-agency="ATF"' not in listing.text and other["id"] not in listing.text
    page = partner.get(f"/agreements/{own['id']}")
    assert page.status_code == 200
    assert "<td>DAO</td>" in page.text
    assert "DAO governance" not in page.text  # agencies, not the city's staff
    assert re.findall(r'<form method="post" action="([^"]+)"', page.text) == ["/signout"]
    hidden = partner.get(f"/agreements/{other['id']}")
    assert hidden.status_code == 404  # not 403: another agency's agreement does not exist for it
    assert "firearms" not in hidden.text


def test_the_registered_case_term_goes_through_the_forms_terms_and_diff(
    client: TestClient, gov: Callable[[str], TestClient], governors: dict[str, User], fbi: User
) -> None:
    browser = gov("CITY")
    blank = browser.get("/agreements/new").text
    assert 'name="registered_case" value="required" aria-describedby' in blank  # offered, not ticked
    reply = post_form(browser, "/agreements/new", "/agreements/new", {**GOOD_FORM, "registered_case": "required"})
    assert reply.status_code == 303, reply.text
    [made] = api_agreements(client, governors["DAO"])
    assert made["versions"][0]["require_registered_case"] is True
    path = f"/agreements/{made['id']}"
    terms = text_of(browser.get(path).text)
    assert "Registered case required: the reference must name an open case the partner registered" in terms
    amend = browser.get(f"{path}/versions/new").text
    assert 'name="registered_case" value="required" checked' in amend
    # The amendment leaves the box unticked: version 2 no longer requires registered cases.
    renewal = {k: v for k, v in GOOD_FORM.items() if k != "agency"}
    assert browser.post(f"{path}/versions", data={**renewal, "csrf": csrf_of(amend)}).status_code == 303
    [shown] = api_agreements(client, governors["DAO"])
    assert [v["require_registered_case"] for v in shown["versions"]] == [True, False]
    diff = browser.get(path).text
    row = re.search(r'<tr class="changed">\s*<th scope="row">Registered case</th>(.*?)</tr>', diff, re.S)
    assert row, "the diff names the changed term"
    assert '<del>required</del> <span class="mark">(was)</span>' in row.group(1)
    assert '<ins>not required</ins> <span class="mark">(now)</span>' in row.group(1)
