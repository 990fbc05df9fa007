"""Booking an arrest through the intake form (statute search with and without JavaScript, field
errors beside their fields), the records search page and the record page."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pars.permissions import Role
from pars.records import pages_read
from pars.records.models import Arrest
from tests.conftest import User, audit_actions
from tests.sharing.conftest import agreement, approve, fbi, governors, partner_headers, propose  # noqa: F401
from tests.web.conftest import WebUser, csrf_of

Book = Callable[..., dict[str, Any]]


def _form(csrf: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "csrf": csrf,
        "action": "book",
        "last_name": "Peña",
        "first_name": "Ana",
        "dob": "1990-05-04",
        "sex": "F",
        "street": "3021 Kensington Ave",
        "city": "Philadelphia",
        "arrested_at": "2026-03-17T09:30",
        "district": "24",
        "incident_number": "2624001234",
        "arresting_agency": "PPD",
        "arresting_officer": "4471",
        "charge_statute": ["18 § 2701 §§ A1", ""],
        "charge_grade": ["M2", ""],
        "charge_counts": ["1", "1"],
        "narrative": "Officers responded to a report of a fight.",
    }
    data.update(changes)
    return data


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Arrest)) or 0


def _error_of(html: str, field: str) -> str:
    found = re.search(rf'<span class="field-error" id="{re.escape(field)}-error">([^<]*)</span>', html)
    assert found, f"no message beside {field}"
    return found.group(1)


@pytest.fixture
def booker(web_user: Callable[..., WebUser], signed_in: Callable[[WebUser], TestClient]) -> TestClient:
    return signed_in(web_user(Role.BOOKING))


def test_booking_form_groups_the_fields_and_books_an_arrest(booker: TestClient, session: Session) -> None:
    form = booker.get("/arrests/new")
    assert form.status_code == 200
    html = form.text
    for legend in ("Person", "Identifiers and contact", "Arrest", "Charges", "Narrative"):
        assert f"<legend>{legend}</legend>" in html
    assert '<label for="last_name">Last name' in html and '<label for="charge_statute-0">' in html
    assert 'value="lookup-0"' in html  # the server-side statute look-up, for browsers without JS
    assert '<script src="/static/records.js"' in html

    reply = booker.post("/arrests/new", data=_form(csrf_of(html)))
    assert reply.status_code == 303, reply.text
    record = booker.get(reply.headers["location"])
    assert record.status_code == 200
    notice = re.search(r'<p class="notice" role="status">([^<]*)</p>', record.text)
    assert notice is not None
    arrest = session.scalars(select(Arrest)).one()
    assert f"Tracking number (OTN) {arrest.tracking_number[0]} " in notice.group(1)
    assert f"PPN {arrest.person.ppn}" in notice.group(1)
    assert "Peña, Ana" in record.text and "Simple Assault" in record.text
    assert "2026-03-17 09:30 EDT" in record.text  # the arrest time as entered, city time
    assert arrest.arrested_at.isoformat().startswith("2026-03-17T13:30")
    assert ("arrest.create", "ok") in audit_actions(session)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"charge_statute": ["18 § 9999", ""]}, "charge_statute-0", "is not a statute courts have recorded"),
        ({"charge_grade": ["F1", ""]}, "charge_grade-0", "Courts have not recorded grade F1 for 18 § 2701 §§ A1"),
        ({"last_name": ""}, "last_name", "Enter the last name"),
        ({"dob": "1850-01-01"}, "dob", "Date of birth must be in 1900 or later"),
        ({"arrested_at": ""}, "arrested_at", "Enter the date and time of the arrest"),
        ({"charge_statute": ["", "18 § 2701 §§ A1"], "charge_grade": ["", "Q9"]}, "charge_grade-1", "not recorded"),
    ],
)
def test_booking_errors_show_beside_their_fields_and_book_nothing(
    booker: TestClient, session: Session, changes: dict[str, Any], field: str, message: str
) -> None:
    csrf = csrf_of(booker.get("/arrests/new").text)
    reply = booker.post("/arrests/new", data=_form(csrf, **changes))
    assert reply.status_code == 422
    assert message in _error_of(reply.text, field)
    assert f'id="{field}"' in reply.text
    assert re.search(rf'id="{re.escape(field)}"[^>]*aria-invalid="true"', reply.text)
    assert 'id="error-summary"' in reply.text and f'href="#{field}"' in reply.text
    assert 'value="Peña"' in reply.text or field == "last_name"  # what was typed is kept
    assert _count(session) == 0


def test_missing_name_and_unknown_statute_are_reported_together(booker: TestClient, session: Session) -> None:
    csrf = csrf_of(booker.get("/arrests/new").text)
    reply = booker.post("/arrests/new", data=_form(csrf, last_name="", charge_statute=["18 § 9999", ""]))
    assert reply.status_code == 422
    assert _error_of(reply.text, "last_name") == "Enter the last name"
    assert "not a statute courts have recorded" in _error_of(reply.text, "charge_statute-0")
    assert _count(session) == 0


def test_statute_look_up_without_javascript(booker: TestClient, session: Session) -> None:
    csrf = csrf_of(booker.get("/arrests/new").text)
    looked = booker.post(
        "/arrests/new",
        data=_form(csrf, action="lookup-0", charge_statute=["simple assault", ""], charge_grade=["", ""]),
    )
    assert looked.status_code == 200
    assert "Use 18 § 2701" in looked.text
    assert 'value="simple assault"' in looked.text  # the row keeps its text
    used = booker.post(
        "/arrests/new",
        data=_form(csrf, action="use-0:18 § 2701 §§ A1", charge_statute=["simple assault", ""], charge_grade=["", ""]),
    )
    assert used.status_code == 200
    assert 'id="charge_statute-0" name="charge_statute" value="18 § 2701 §§ A1"' in used.text
    grade_select = re.search(r'<select id="charge_grade-0".*?</select>', used.text, re.S)
    assert grade_select is not None
    offered = re.findall(r'<option value="([^"]+)"', grade_select.group(0))
    assert "M2" in offered and "F1" not in offered  # only the grades recorded for the statute
    added = booker.post("/arrests/new", data=_form(csrf, action="add"))
    assert 'id="charge_statute-2"' in added.text
    assert _count(session) == 0  # looking up books nothing


def test_statute_search_json_for_signed_in_users(booker: TestClient, browser_client: Callable[[], TestClient]) -> None:
    found = booker.get("/catalog/statutes", params={"q": "18 § 2701"})
    assert found.status_code == 200
    items = found.json()["items"]
    assert 0 < len(items) <= 12
    first = next(i for i in items if i["statute"] == "18 § 2701 §§ A1")
    assert "M2" in first["grades"] and first["description"]
    assert booker.get("/catalog/statutes", params={"q": "burglary"}).json()["items"]
    assert browser_client().get("/catalog/statutes", params={"q": "2701"}).status_code == 303  # sign in first


def test_booking_needs_the_booking_role_and_the_csrf_token(
    booker: TestClient, web_user: Callable[..., WebUser], signed_in: Callable[[WebUser], TestClient], session: Session
) -> None:
    charging = signed_in(web_user(Role.CHARGING, agency="DAO"))
    refused = charging.get("/arrests/new")
    assert refused.status_code == 403
    assert "your roles do not allow this page" in refused.text
    token = csrf_of(charging.get("/").text)
    assert charging.post("/arrests/new", data=_form(token)).status_code == 403

    no_token = _form("")
    del no_token["csrf"]
    refused = booker.post("/arrests/new", data=no_token)
    assert refused.status_code == 403
    assert "This form could not be accepted" in refused.text
    assert _count(session) == 0


def test_search_page_finds_records_and_pages_with_a_next_link(
    book: Book, web_user: Callable[..., WebUser], signed_in: Callable[[WebUser], TestClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    first = book()
    second = book(arrest={**first["arrest"], "arrested_at": "2026-03-17T11:00:00-04:00", "incident_number": "2624009"})
    other = book(person={"name": {"last": "Smith", "first": "John"}, "dob": "1980-01-02"})
    client = signed_in(web_user(Role.CHARGING, agency="DAO"))
    page = client.get("/arrests")
    assert page.status_code == 200 and "Latest arrests" in page.text
    assert other["tracking_number"] in page.text

    found = client.get("/arrests", params={"last_name": "pena", "first_name": "ANA"})
    assert found.status_code == 200
    assert first["tracking_number"] in found.text and second["tracking_number"] in found.text
    assert other["tracking_number"] not in found.text
    assert f'href="/arrests/{first["id"]}"' in found.text

    monkeypatch.setattr(pages_read, "PAGE_SIZE", 1)
    one = client.get("/arrests", params={"last_name": "Peña"})
    assert second["tracking_number"] in one.text and first["tracking_number"] not in one.text  # newest first
    link = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', one.text)
    assert link is not None
    following = client.get(link.group(1).replace("&amp;", "&"))
    assert first["tracking_number"] in following.text and second["tracking_number"] not in following.text

    bad = client.get("/arrests", params={"tracking_number": "N 123456-0"})
    assert bad.status_code == 422
    assert "Enter a tracking number like N 917652-1" in _error_of(bad.text, "tracking_number")


def test_record_page_shows_history_and_the_steps_the_role_may_take(
    walk: Book, web_user: Callable[..., WebUser], signed_in: Callable[[WebUser], TestClient]
) -> None:
    record = walk("arraigned")
    booking = signed_in(web_user(Role.BOOKING))
    page = booking.get(f"/arrests/{record['id']}")
    assert page.status_code == 200
    html = page.text
    assert record["tracking_number"] in html and record["charging"]["docket_number"] in html
    history = html.split("<h2>History</h2>")[1].split("</table>")[0]
    for step, who in (("Booked", "PPD booking · PPD"), ("Charging decision", "DAO charging · DAO"),
                      ("Arraigned", "FJD magistrate · FJD")):  # fmt: skip
        assert step in history and who in history
    assert "2026-03-17 15:00 EDT" in history  # booked at 19:00 UTC, shown in city time
    assert "approved, docket MC-51-CR-" in history
    assert 'href="/custody/{}">Commit or release'.format(record["id"]) in html  # booking's next step
    assert "/seal" not in html  # sealing is the magistrate's
    assert "shown to oversight users" in html
    assert 'name="csrf" value=""' not in html

    magistrate = signed_in(web_user(Role.MAGISTRATE, agency="FJD"))
    assert 'action="/arrests/{}/seal"'.format(record["id"]) in magistrate.get(f"/arrests/{record['id']}").text


def test_commitment_and_seal_from_the_record_page(
    walk: Book, web_user: Callable[..., WebUser], signed_in: Callable[[WebUser], TestClient], session: Session
) -> None:
    record = walk("arraigned")
    booking = signed_in(web_user(Role.BOOKING))
    path = f"/arrests/{record['id']}"
    csrf = csrf_of(booking.get(path).text)
    step = f"/custody/{record['id']}"  # the record page links to the case's custody page (issue 15)
    empty = booking.post(step, data={"csrf": csrf, "step": "commitment", "facility": ""})
    assert empty.status_code == 422
    assert _error_of(empty.text, "facility") == "Choose the facility"
    done = booking.post(step, data={"csrf": csrf, "step": "commitment", "facility": "Curran-Fromhold"})
    assert done.status_code == 303 and done.headers["location"] == "/custody"
    page = booking.get(path)
    assert "Committed to Curran-Fromhold" in page.text and "Committed" in page.text
    assert booking.post(f"{path}/seal", data={"csrf": csrf, "order_ref": "X"}).status_code == 403

    magistrate = signed_in(web_user(Role.MAGISTRATE, agency="FJD"))
    token = csrf_of(magistrate.get(path).text)
    sealed = magistrate.post(f"{path}/seal", data={"csrf": token, "order_ref": "CP-51-MD-0001-2026"})
    assert sealed.status_code == 303
    page = magistrate.get(path)
    assert 'class="badge warn">sealed' in page.text and "order CP-51-MD-0001-2026" in page.text
    again = magistrate.post(f"{path}/seal", data={"csrf": token, "order_ref": "again"})
    assert again.status_code == 409 and "already sealed" in again.text
    session.expire_all()
    assert session.get_one(Arrest, uuid.UUID(record["id"])).seal_order_ref == "CP-51-MD-0001-2026"


def test_partners_and_admins_get_no_record_page(
    book: Book, make_user: Callable[..., Any], web_user: Callable[..., WebUser],
    signed_in: Callable[[WebUser], TestClient],
) -> None:  # fmt: skip
    record = book()
    partner = signed_in(web_user(Role.PARTNER, agency="FBI"))
    refused = partner.get(f"/arrests/{record['id']}")
    assert refused.status_code == 403 and "partners search records under their agreement" in refused.text
    assert record["tracking_number"] not in refused.text
    assert partner.get("/arrests").status_code == 403
    assert signed_in(web_user(Role.ADMIN, agency="PARS")).get(f"/arrests/{record['id']}").status_code == 403


def test_oversight_sees_the_disclosure_accounting_on_the_record_page(
    client: TestClient, book: Book, agreement: Callable[..., Any], fbi: Any,  # noqa: F811
    web_user: Callable[..., WebUser], signed_in: Callable[[WebUser], TestClient],
) -> None:  # fmt: skip
    record = book(charges=[{"statute": "18 § 2701 §§ A1", "grade": "M1"}])
    agreement()
    read = client.get(f"/api/v1/arrests/{record['id']}", headers=partner_headers(fbi))
    assert read.status_code == 200, read.text
    oversight = signed_in(web_user(Role.OVERSIGHT, agency="CITY"))
    page = oversight.get(f"/arrests/{record['id']}")
    assert page.status_code == 200
    table = page.text.split("<h2>Disclosure accounting</h2>")[1]
    assert "FBI" in table and "criminal investigation" in table and "FBI-PH-2026-0042" in table
    assert "person.name" in table and "person.place_of_birth" not in table


def test_bail_is_shown_in_words_on_the_record_and_custody_pages(
    client: TestClient,
    walk: Book,
    magistrate: User,
    web_user: Callable[..., WebUser],
    signed_in: Callable[[WebUser], TestClient],
) -> None:
    """The stored codes ("nonmonetary", "ROR") are what the API returns; a page says what they mean."""
    record = walk("charges_approved")
    body = {
        "held_at": "2026-03-17T14:00:00-04:00",
        "bail_type": "nonmonetary",
        "conditions": "report weekly",
        "next_hearing_at": "2026-03-24T09:00:00-04:00",
    }
    arraigned = client.post(f"/api/v1/arrests/{record['id']}/arraignment", json=body, headers=magistrate.headers)
    assert arraigned.status_code == 200, arraigned.text
    booking = signed_in(web_user(Role.BOOKING))
    for path in (f"/arrests/{record['id']}", "/custody", f"/custody/{record['id']}"):
        html = booking.get(path).text
        assert "non-monetary conditions" in html, path
        assert ">nonmonetary" not in html and "nonmonetary bail" not in html, path
