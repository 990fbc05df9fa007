"""The complaint pages (issue 16 item 4): oversight records a complaint about a partner agency,
sees it listed, sets its outcome; a bad form shows what was typed and changes nothing; a form
without its CSRF token is refused; other roles do not see the pages."""

from __future__ import annotations

import html as markup
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.oversight.models import Complaint
from pars.permissions import Role
from tests.conftest import User
from tests.web.conftest import WebUser, csrf_of

SignedIn = Callable[[WebUser], TestClient]


@pytest.fixture
def oversight(web_user: Callable[..., WebUser], make_user: Callable[..., User]) -> WebUser:
    make_user(Role.PARTNER, agency="ICE")
    make_user(Role.PARTNER, agency="FBI")
    return web_user(Role.OVERSIGHT, agency="CITY")


def _complaints(session: Session) -> list[Complaint]:
    session.expire_all()
    return list(session.scalars(select(Complaint)))


def test_oversight_records_a_complaint_and_sets_its_outcome(
    signed_in: SignedIn, oversight: WebUser, session: Session
) -> None:
    client = signed_in(oversight)
    listing = client.get("/oversight/complaints")
    assert listing.status_code == 200, listing.text
    assert "No complaint matches" in listing.text
    assert '<option value="ICE">' in listing.text and '<option value="FBI">' in listing.text
    assert 'href="/oversight/complaints"' in listing.text  # in the navigation

    form = {"csrf": csrf_of(listing.text), "complainant": "A resident, by letter", "received_at": "2026-03-15T09:30",
            "agency": "ICE", "text": "They asked about my status.\nTwice."}  # fmt: skip
    made = client.post("/oversight/complaints", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text
    [complaint] = _complaints(session)
    assert made.headers["location"] == f"/oversight/complaints/{complaint.id}"
    # 09:30 city time (EDT, UTC-4) on 15 March.
    assert complaint.received_at.isoformat() == "2026-03-15T13:30:00+00:00"
    assert complaint.outcome == "open" and complaint.text == "They asked about my status.\nTwice."

    detail = client.get(made.headers["location"])
    assert "A resident, by letter" in detail.text
    assert "They asked about my status." in detail.text
    assert "Open: inquiry not finished" in detail.text
    listed = client.get("/oversight/complaints?agency=ICE")
    assert "A resident, by letter" in listed.text and "1 complaint," in listed.text
    assert "A resident" not in client.get("/oversight/complaints?agency=FBI").text

    change = {"csrf": csrf_of(detail.text), "outcome": "substantiated", "note": "Lookup with no case reference."}
    done = client.post(f"/oversight/complaints/{complaint.id}/outcome", data=change, follow_redirects=False)
    assert done.status_code == 303
    shown = client.get(done.headers["location"]).text
    assert "Substantiated" in shown and "Lookup with no case reference." in shown
    assert "Outcome set: Substantiated." in shown
    session.expire_all()
    assert _complaints(session)[0].outcome == "substantiated"
    actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.agency == "CITY")))
    assert "oversight.complaint_record" in actions and "oversight.complaint_outcome" in actions


def test_a_bad_form_shows_what_was_typed_and_saves_nothing(
    signed_in: SignedIn, oversight: WebUser, session: Session
) -> None:
    client = signed_in(oversight)
    csrf = csrf_of(client.get("/oversight/complaints").text)
    form = {"csrf": csrf, "complainant": "Someone <b>", "received_at": "", "agency": "", "text": " "}
    refused = client.post("/oversight/complaints", data=form)
    assert refused.status_code == 422
    assert "There is a problem" in refused.text and "<title>Error: Complaints" in refused.text
    assert markup.escape("Someone <b>") in refused.text
    assert "Choose the partner agency" in refused.text and "Write what the complaint says" in refused.text
    assert _complaints(session) == []

    nul = client.post("/oversight/complaints", data={**form, "agency": "ICE", "text": "bad\x00text"})
    assert nul.status_code == 422 and "\x00" not in nul.text
    assert _complaints(session) == []

    no_token = client.post("/oversight/complaints", data={**form, "csrf": "wrong", "agency": "ICE", "text": "ok"})
    assert no_token.status_code == 403
    assert _complaints(session) == []


def test_an_outcome_without_a_note_is_refused(signed_in: SignedIn, oversight: WebUser, session: Session) -> None:
    client = signed_in(oversight)
    csrf = csrf_of(client.get("/oversight/complaints").text)
    form = {"csrf": csrf, "complainant": "Anonymous", "agency": "FBI", "text": "Misuse."}
    location = client.post("/oversight/complaints", data=form, follow_redirects=False).headers["location"]
    refused = client.post(f"{location}/outcome", data={"csrf": csrf, "outcome": "withdrawn", "note": " "})
    assert refused.status_code == 422
    assert "There is a problem" in refused.text and '<a href="#note">' in refused.text
    assert _complaints(session)[0].outcome == "open"


def test_other_roles_do_not_see_complaints(signed_in: SignedIn, web_user: Callable[..., WebUser]) -> None:
    client = signed_in(web_user(Role.GOVERNANCE, agency="DAO"))
    assert client.get("/oversight/complaints").status_code == 403
    assert 'href="/oversight/complaints"' not in client.get("/agreements").text
