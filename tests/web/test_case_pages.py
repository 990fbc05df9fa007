"""Issue 15, the ADA's, the magistrate's and booking's custody day without a browser: the custody
worklist and its steps, the grade order, charge rows added and removed without JavaScript, and
messages in plain words."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.errors import FieldError
from pars.permissions import Role
from pars.records import codes
from pars.records.models import Arrest
from pars.records.pages_forms import field_errors, validation_errors
from pars.records.schemas import ArraignmentIn, CommitmentIn
from tests.web.conftest import WebUser, csrf_of

Book = Callable[..., dict[str, Any]]
SignedIn = Callable[[WebUser], TestClient]


def _arrest(session: Session, arrest_id: str) -> Arrest:
    session.expire_all()
    return session.scalars(select(Arrest).where(Arrest.id == uuid.UUID(arrest_id))).one()


@pytest.fixture
def officer(web_user: Callable[..., WebUser], signed_in: SignedIn) -> TestClient:
    return signed_in(web_user(Role.BOOKING))


@pytest.fixture
def prosecutor(web_user: Callable[..., WebUser], signed_in: SignedIn) -> TestClient:
    return signed_in(web_user(Role.CHARGING, agency="DAO"))


def _declined(walk: Book, client: TestClient, book: Book) -> dict[str, Any]:
    record = book(person={"name": {"last": "Declined", "first": "Dee"}, "dob": "1980-01-01"})
    csrf = csrf_of(client.get(f"/charging/{record['id']}").text)
    assert client.post(f"/charging/{record['id']}", data={"csrf": csrf, "decision": "declined"}).status_code == 303
    return record


def test_custody_worklist_counts_and_links_each_case(
    walk: Book, book: Book, officer: TestClient, prosecutor: TestClient
) -> None:
    arraigned = walk("arraigned")
    declined = _declined(walk, prosecutor, book)
    walk("committed")  # done: not on the list
    page = officer.get("/custody")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/custody" aria-current="page">Custody</a>' in html  # the nav entry
    assert "<strong>2</strong> waiting" in html
    assert "<strong>1</strong> to release (charges declined)" in html
    assert "<strong>1</strong> to commit or release (arraigned)" in html
    assert f'href="/custody/{declined["id"]}">Release' in html
    assert f'href="/custody/{arraigned["id"]}">Commit or release' in html
    assert '<table class="stack custody">' in html
    assert prosecutor.get("/custody").status_code == 403


def test_commit_with_a_facility_from_the_list(walk: Book, officer: TestClient, session: Session) -> None:
    record = walk("arraigned")
    path = f"/custody/{record['id']}"
    case = officer.get(path).text
    for facility in codes.FACILITIES:
        assert f'<option value="{facility}">{facility}</option>' in case
    csrf = csrf_of(case)
    none = officer.post(path, data={"csrf": csrf, "step": "commitment", "facility": ""})
    assert none.status_code == 422 and 'id="facility-error">Choose the facility' in none.text
    assert "<title>Error: Custody" in none.text
    done = officer.post(path, data={"csrf": csrf, "step": "commitment", "facility": codes.FACILITIES[1]})
    assert done.status_code == 303 and done.headers["location"] == "/custody"
    notice = officer.get("/custody").text
    assert f"{record['tracking_number']} committed to {codes.FACILITIES[1]}." in notice
    assert _arrest(session, record["id"]).status == "committed"


def test_release_with_a_reason_or_another_in_words(
    walk: Book, book: Book, officer: TestClient, prosecutor: TestClient, session: Session
) -> None:
    record = _declined(walk, prosecutor, book)
    path = f"/custody/{record['id']}"
    case = officer.get(path).text
    assert '<option value="charges declined" selected>charges declined</option>' in case  # the likely one
    csrf = csrf_of(case)
    form = {"csrf": csrf, "step": "release", "released_at": "2026-03-17T14:45", "reason": "other", "reason_other": ""}
    other = officer.post(path, data=form)
    assert other.status_code == 422 and 'id="reason_other-error">Enter the reason for the release' in other.text
    assert 'value="2026-03-17T14:45"' in other.text
    early = officer.post(path, data={**form, "released_at": "2026-03-17T08:00", "reason": "bail posted"})
    assert early.status_code == 422 and "The release must be after the arrest" in early.text
    done = officer.post(path, data={**form, "reason_other": "released to a treatment program"})
    assert done.status_code == 303
    assert _arrest(session, record["id"]).release_reason == "released to a treatment program"
    shown = officer.get(f"/arrests/{record['id']}").text
    assert "Released 2026-03-17 14:45 EDT (released to a treatment program)" in shown
    assert "released · released" not in shown
    again = officer.post(path, data={**form, "reason": "bail posted"})
    assert again.status_code == 409
    assert re.search(
        rf"{re.escape(record['tracking_number'])} was already released by PPD booking \(PPD\) at ", again.text
    )
    old = officer.post(f"/arrests/{record['id']}/release", data={"csrf": csrf})  # the record page's old address
    assert old.status_code == 307 and old.headers["location"] == f"/custody/{record['id']}?step=release"


def test_usual_grade_first_and_rare_grades_marked(book: Book, prosecutor: TestClient) -> None:
    record = book(charges=[{"statute": "18 § 5503", "grade": "S"}])
    case = prosecutor.get(f"/charging/{record['id']}").text
    select_html = case.split('id="charge_grade-0"', 1)[1].split("</select>", 1)[0]
    shown = re.findall(r'<option value="(\w+)"[^>]*>([^<]+)<', select_html)
    assert [value for value, _ in shown] == ["S", "M3", "M2", "M", "F1"]  # most often recorded first
    assert ("F1", "F1 (rare for this offense)") in shown and ("M3", "M3") in shown
    statutes = prosecutor.get("/catalog/statutes", params={"q": "18 § 5503"}).json()["items"]
    section = next(item for item in statutes if item["statute"] == "18 § 5503")
    assert section["grades"][0] == "S" and "F1" in section["rare"] and "M3" not in section["rare"]


def test_add_and_remove_charge_rows_without_javascript(book: Book, prosecutor: TestClient, session: Session) -> None:
    record = book()
    path = f"/charging/{record['id']}"
    csrf = csrf_of(prosecutor.get(path).text)
    form = {"csrf": csrf, "decision": "modified", "notes": "two charges", "charge_statute": ["18 § 2701 §§ A1"],
            "charge_grade": ["M2"], "charge_counts": ["1"]}  # fmt: skip
    added = prosecutor.post(path, data={**form, "action": "add"})
    assert added.status_code == 200 and 'id="charge_statute-1"' in added.text
    assert ">two charges</textarea>" in added.text and 'id="decision-modified" checked' in added.text
    assert _arrest(session, record["id"]).status == "booked"  # nothing decided yet
    two = {**form, "charge_statute": ["18 § 2701 §§ A1", "18 § 5503 §§ A4"], "charge_grade": ["M2", "M3"],
           "charge_counts": ["1", "1"]}  # fmt: skip
    removed = prosecutor.post(path, data={**two, "action": "remove-0"})
    assert removed.status_code == 200
    assert (
        'value="18 § 5503 §§ A4"' in removed.text
        and 'value="18 § 2701 §§ A1"' not in removed.text.split("data-charge-rows", 1)[1]
    )
    done = prosecutor.post(path, data={**two, "charge_statute": ["18 § 5503 §§ A4"], "charge_grade": ["M3"],
                                       "charge_counts": ["1"]})  # fmt: skip
    assert done.status_code == 303
    arrest = _arrest(session, record["id"])
    assert sorted((c.section, c.status) for c in arrest.charges) == [("2701", "declined"), ("5503", "approved")]


def test_messages_in_plain_words() -> None:
    with pytest.raises(ValidationError) as long_name:
        CommitmentIn.model_validate({"facility": "x" * 201})
    assert validation_errors(long_name.value) == {"facility": "Enter 200 characters or fewer"}
    with pytest.raises(ValidationError) as bail:
        ArraignmentIn.model_validate(
            {"held_at": "2026-03-17T14:00:00-04:00", "bail_type": "monetary", "bail_amount": "lots",
             "next_hearing_at": "2026-03-24T09:00:00-04:00"}
        )  # fmt: skip
    assert validation_errors(bail.value) == {"bail_amount": "Enter the bail amount as a number, like 5000 or 5,000.50"}
    found = field_errors(
        [FieldError("next_hearing_at", "is before held_at"), FieldError("person.dob", "is after the arrest"),
         FieldError("held_at", "is in the future")]
    )  # fmt: skip
    assert found == {
        "next_hearing_at": "The next hearing must be after the arraignment",
        "dob": "Date of birth must be before the arrest",
        "held_at": "The date and time of the arraignment cannot be in the future",
    }
    broad = field_errors([FieldError("form", "one of sid, ppn, tracking_number, incident_number, docket_number")])
    assert "SID, PPN, tracking number" in broad["form"] and "_" not in broad["form"]
