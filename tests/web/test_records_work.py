"""The charging queue and the arraignment docket: oldest first with the hours waiting, overdue
cases marked in words, and the decision and arraignment forms with their errors."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.clock import FrozenClock
from pars.permissions import Role
from pars.records.models import Arrest
from tests.conftest import audit_actions
from tests.web.conftest import WebUser, csrf_of

Book = Callable[..., dict[str, Any]]
SignedIn = Callable[[WebUser], TestClient]


def _status(session: Session, arrest_id: str) -> str:
    session.expire_all()
    return session.scalars(select(Arrest.status).where(Arrest.id == uuid.UUID(arrest_id))).one()


@pytest.fixture
def prosecutor(web_user: Callable[..., WebUser], signed_in: SignedIn) -> TestClient:
    return signed_in(web_user(Role.CHARGING, agency="DAO"))


@pytest.fixture
def judge(web_user: Callable[..., WebUser], signed_in: SignedIn) -> TestClient:
    return signed_in(web_user(Role.MAGISTRATE, agency="FJD"))


def _late_arrest(book: Book, when: str, last: str) -> dict[str, Any]:
    return book(
        person={"name": {"last": last, "first": "Sam"}, "dob": "1985-02-03"},
        arrest={"arrested_at": when, "district": "12", "incident_number": f"DC-{last}"},
    )


def test_charging_queue_is_a_list_of_cases_with_narrative_and_charges(
    book: Book, walk: Book, prosecutor: TestClient
) -> None:
    newer = _late_arrest(book, "2026-03-17T12:00:00-04:00", "Newer")  # 3 hours before the clock
    older = _late_arrest(book, "2026-03-16T23:00:00-04:00", "Older")  # 16 hours before
    decided = walk("charges_approved")
    page = prosecutor.get("/charging")
    assert page.status_code == 200
    html = page.text
    assert html.index(older["tracking_number"]) < html.index(newer["tracking_number"])
    assert decided["tracking_number"] not in html  # no longer waiting
    assert "16.0 hours</strong> since arrest" in html and "3.0 hours</strong> since arrest" in html
    assert "<form" not in html.split("<main", 1)[1].split("</main>")[0]  # a list: the forms are on the case pages
    assert f'href="/charging/{older["id"]}"' in html
    assert "Officers responded to a report of a fight." in html  # the narrative
    assert "18 § 2701 §§ A1</span> (M2) Simple Assault" in html
    assert '<table class="stack queue">' in html and 'data-label="Narrative"' in html


def test_approving_from_the_case_page_gives_a_docket_number(
    book: Book, prosecutor: TestClient, session: Session
) -> None:
    record = book()
    case = prosecutor.get(f"/charging/{record['id']}")
    assert case.status_code == 200
    assert 'aria-current="page"' in case.text.split('href="/charging"', 1)[1][:30]  # the nav: Charging queue
    assert 'action="/charging/{}"'.format(record["id"]) in case.text
    done = prosecutor.post(f"/charging/{record['id']}", data={"csrf": csrf_of(case.text), "decision": "approved"})
    assert done.status_code == 303 and done.headers["location"] == "/charging"
    page = prosecutor.get("/charging")
    assert re.search(
        rf"Charges approved for {re.escape(record['tracking_number'])}: docket number MC-51-CR-", page.text
    )
    assert "No arrest is waiting for a charging decision." in page.text
    assert _status(session, record["id"]) == "charges_approved"


def test_decision_errors_stay_on_the_case_page_and_change_nothing(
    book: Book, prosecutor: TestClient, session: Session
) -> None:
    record = book()
    path = f"/charging/{record['id']}"
    csrf = csrf_of(prosecutor.get(path).text)
    none = prosecutor.post(path, data={"csrf": csrf, "notes": "kept"})
    assert none.status_code == 422
    assert 'id="decision-error">Choose a charging decision' in none.text
    assert "<title>Error: Charging decision" in none.text and ">kept</textarea>" in none.text

    modified = prosecutor.post(
        path,
        data={"csrf": csrf, "decision": "modified", "charge_statute": ["18 § 2701 §§ A1", "18 § 9999"],
              "charge_grade": ["F1", ""], "charge_counts": ["1", "x"]},
    )  # fmt: skip
    assert modified.status_code == 422
    html = modified.text
    assert 'id="charge_grade-0-error">Courts have not recorded grade F1 for 18 § 2701 §§ A1' in html
    assert 'id="charge_statute-1-error">18 § 9999 is not a statute courts have recorded' in html
    assert 'id="charge_grade-1-error">Choose a grade' in html  # the bad statute hides nothing on its row
    assert 'id="charge_counts-1-error">Enter the number of counts' in html
    summary = html.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    order = [summary.index(f'href="#{key}"') for key in
             ("charge_grade-0", "charge_statute-1", "charge_grade-1", "charge_counts-1")]  # fmt: skip
    assert order == sorted(order)  # page order: row by row, statute, grade, counts
    assert 'value="18 § 9999"' in html and 'id="decision-modified" checked' in html  # as sent
    assert _status(session, record["id"]) == "booked"

    good = prosecutor.post(
        path,
        data={"csrf": csrf, "decision": "modified", "charge_statute": ["18 § 2701 §§ A1", ""],
              "charge_grade": ["M1", ""], "charge_counts": ["2", "1"], "notes": "upgraded"},
    )  # fmt: skip
    assert good.status_code == 303
    assert _status(session, record["id"]) == "charges_approved"
    again = prosecutor.post(path, data={"csrf": csrf, "decision": "declined"})
    assert again.status_code == 409
    otn = record["tracking_number"]
    assert re.search(
        rf"{re.escape(otn)} was already decided: charges modified and approved by DAO charging \(DAO\) at \d\d:\d\d on 17 March\.",
        again.text,
    )
    assert "charges_approved" not in again.text.split("<main", 1)[1]


def test_queue_and_decisions_need_the_charging_role_and_csrf(
    book: Book, web_user: Callable[..., WebUser], signed_in: SignedIn, prosecutor: TestClient, session: Session
) -> None:
    record = book()
    booking = signed_in(web_user(Role.BOOKING))
    assert booking.get("/charging").status_code == 403
    assert booking.get(f"/charging/{record['id']}").status_code == 403
    token = csrf_of(booking.get("/").text)
    path = f"/charging/{record['id']}"
    assert booking.post(path, data={"csrf": token, "decision": "approved"}).status_code == 403
    refused = prosecutor.post(path, data={"decision": "approved"})
    assert refused.status_code == 403 and "This form could not be accepted" in refused.text
    assert _status(session, record["id"]) == "booked"
    assert ("auth.denied", "refused") in audit_actions(session)


def test_docket_shows_hours_and_overdue_cases_in_words(
    walk: Book, web_user: Callable[..., WebUser], signed_in: SignedIn, clock: FrozenClock
) -> None:
    old = walk("charges_approved")  # arrested 13:30 UTC; the clock is 19:00 UTC
    clock.advance(timedelta(hours=20))
    fresh = walk("charges_approved", arrest={**old["arrest"], "arrested_at": "2026-03-18T10:00:00-04:00",
                                             "incident_number": "DC-2"})  # fmt: skip
    judge = signed_in(web_user(Role.MAGISTRATE, agency="FJD"))  # after the 20 hours: sessions lock when idle
    page = judge.get("/docket")
    assert page.status_code == 200
    html = page.text
    assert html.index(old["tracking_number"]) < html.index(fresh["tracking_number"])
    row = re.search(rf'<tr id="row-{old["id"]}" class="overdue">.*?</tr>', html, re.S)
    assert row is not None
    assert "25.5" in row.group(0) and '<span class="badge bad">overdue</span>' in row.group(0)
    assert f'href="/docket/{old["id"]}">Arraign' in row.group(0)
    fresh_row = re.search(rf'<tr id="row-{fresh["id"]}">.*?</tr>', html, re.S)
    assert fresh_row is not None and "overdue" not in fresh_row.group(0) and "1.0" in fresh_row.group(0)
    assert "2 cases waiting, <strong>1 overdue</strong>" in html
    assert "<form" not in html.split("<main", 1)[1].split("</main>")[0]
    case = judge.get(f"/docket/{old['id']}").text
    assert 'value="2026-03-18T11:00"' in case  # held now, city time, by default
    assert '<span class="badge bad">overdue</span>' in case and 'name="csrf" value=""' not in case


def test_arraignment_from_the_case_page(walk: Book, judge: TestClient, session: Session) -> None:
    record = walk("charges_approved")
    path = f"/docket/{record['id']}"
    csrf = csrf_of(judge.get(path).text)
    form = {"csrf": csrf, "held_at": "2026-03-17T14:30", "bail_type": "monetary",
            "bail_amount": "", "conditions": "", "next_hearing_at": "2026-03-24T09:00"}  # fmt: skip
    missing = judge.post(path, data=form)
    assert missing.status_code == 422
    assert 'id="bail_amount-error">Enter the bail amount for monetary bail' in missing.text
    assert 'value="2026-03-24T09:00"' in missing.text  # kept as sent
    words = judge.post(path, data={**form, "bail_amount": "five thousand"})
    assert words.status_code == 422
    assert "Enter the bail amount as a number, like 5000 or 5,000.50" in words.text
    assert 'value="five thousand"' in words.text
    backwards = judge.post(path, data={**form, "bail_amount": "5000", "next_hearing_at": "2026-03-10T09:00"})
    assert backwards.status_code == 422 and "The next hearing must be after the arraignment" in backwards.text
    assert "held_at" not in backwards.text.split('id="error-summary"', 1)[1].split("</div>")[0].replace("#held_at", "")
    assert _status(session, record["id"]) == "charges_approved"

    done = judge.post(path, data={**form, "bail_amount": "$5,000", "conditions": "stay away"})
    assert done.status_code == 303 and done.headers["location"] == "/docket"
    page = judge.get("/docket")
    assert f"Arraigned {record['tracking_number']} (monetary bail)." in page.text
    assert "No case is waiting for arraignment." in page.text
    session.expire_all()
    arrest = session.get(Arrest, uuid.UUID(record["id"]))
    assert arrest is not None and arrest.status == "arraigned" and float(arrest.bail_amount or 0) == 5000
    again = judge.post(path, data={**form, "bail_amount": "100"})
    assert again.status_code == 409
    assert re.search(
        rf"{re.escape(record['tracking_number'])} was already arraigned by FJD magistrate \(FJD\) at ", again.text
    )


def test_the_record_pages_old_form_addresses_lead_to_the_case_page(
    book: Book, prosecutor: TestClient, session: Session
) -> None:
    record = book()
    csrf = csrf_of(prosecutor.get("/charging").text)
    moved = prosecutor.post(f"/arrests/{record['id']}/charging-decision", data={"csrf": csrf, "decision": "approved"})
    assert moved.status_code == 307 and moved.headers["location"] == f"/charging/{record['id']}"
    assert _status(session, record["id"]) == "booked"
    shown = prosecutor.get(f"/arrests/{record['id']}").text
    assert f'href="/charging/{record["id"]}">Decide the charges' in shown


def test_docket_needs_the_magistrate_role_and_csrf(
    walk: Book, prosecutor: TestClient, judge: TestClient, session: Session
) -> None:
    record = walk("charges_approved")
    assert prosecutor.get("/docket").status_code == 403
    assert prosecutor.get(f"/docket/{record['id']}").status_code == 403
    path = f"/docket/{record['id']}"
    data = {"held_at": "2026-03-17T14:30", "bail_type": "ROR", "next_hearing_at": "2026-03-24T09:00"}
    assert prosecutor.post(path, data={**data, "csrf": csrf_of(prosecutor.get("/").text)}).status_code == 403
    assert judge.post(path, data=data).status_code == 403
    assert _status(session, record["id"]) == "charges_approved"
