"""Booking (CONTRACT §4–5): validation, identity resolution, numbering, names as entered."""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.clock import FrozenClock
from pars.outbox.events import OutboxEvent
from pars.records.models import Arrest, Charge, Person
from pars.records.numbers import is_valid_tracking_number
from tests.conftest import START, User, arrest_body


def test_booking_returns_the_whole_record(client: TestClient, booking: User, session: Session) -> None:
    body = arrest_body(
        victims=[{"name": {"first": "Kim", "last": "Lee"}, "dob": "1980-01-01", "phone": "215-555-0100"}],
        charges=[
            {"statute": "18 § 2701 §§ A1*", "grade": "m2"},
            {"title": 18, "section": "3502", "subsection": "A1", "grade": "F1", "counts": 2},
        ],
    )
    response = client.post("/api/v1/arrests", json=body, headers=booking.headers)
    assert response.status_code == 201
    record = response.json()
    assert record["status"] == "booked" and record["sealed"] is False
    assert is_valid_tracking_number(record["tracking_number"])
    assert record["tracking_number"][1] == " " and record["tracking_number"][-2] == "-"
    assert record["person"]["name"] == {"first": "Ana", "middle": None, "last": "Peña", "suffix": None}
    assert record["person"]["identifiers"]["ppn"]
    assert record["arrest"]["arrested_at"] == "2026-03-17T13:30:00+00:00"
    assert record["arrest"]["district"] == "24"
    assert record["custody"] == {"status": "in_custody", "facility": None, "released_at": None, "release_reason": None}
    assert record["charging"] is None and record["arraignment"] is None
    assert record["victims"][0]["name"]["last"] == "Lee"
    first, second = record["charges"]
    assert first == {
        "sequence": 1, "statute": "18 § 2701 §§ A1", "title": 18, "section": "2701", "subsection": "A1",
        "grade": "M2", "description": first["description"], "counts": 1, "status": "proposed",
    }  # fmt: skip
    assert "assault" in first["description"].lower()
    assert (second["statute"], second["grade"], second["counts"]) == ("18 § 3502 §§ A1", "F1", 2)

    again = client.get(f"/api/v1/arrests/{record['id']}", headers=booking.headers).json()
    assert again == record
    events = session.scalars(select(OutboxEvent)).all()
    assert [(e.type, str(e.arrest_id)) for e in events] == [("pars.arrest.booked", record["id"])]
    actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert actions[-2:] == ["arrest.create", "arrest.read"]


def _errors(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["field"]: e["message"] for e in response.json()["errors"]}


INVALID: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown statute", lambda b: b["charges"][0].update(statute="18 § 99999"), "charges[0].statute"),
    ("unreadable statute", lambda b: b["charges"][0].update(statute="assault"), "charges[0].statute"),
    ("grade not recorded", lambda b: b["charges"][0].update(grade="F1"), "charges[0].grade"),
    ("no offset", lambda b: b["arrest"].update(arrested_at="2026-03-17T09:30:00"), "arrest.arrested_at"),
    ("dob before 1900", lambda b: b["person"].update(dob="1899-12-31"), "person.dob"),
    ("dob after arrest", lambda b: b["person"].update(dob="2026-03-18"), "person.dob"),
    ("arrest in the future", lambda b: b["arrest"].update(arrested_at="2026-03-17T19:06:00+00:00"), "arrest.arrested_at"),
    ("empty name part", lambda b: b["person"]["name"].update(first=""), "person.name.first"),
    ("name part over 200", lambda b: b["person"]["name"].update(last="x" * 201), "person.name.last"),
    ("no last name", lambda b: b["person"]["name"].pop("last"), "person.name.last"),
    ("no charges", lambda b: b.update(charges=[]), "charges"),
    ("ppn given", lambda b: b["person"].update(identifiers={"ppn": "1"}), "person.identifiers.ppn"),
    ("unknown member", lambda b: b["person"].update(eye_colour="brown"), "person.eye_colour"),
    ("zero counts", lambda b: b["charges"][0].update(counts=0), "charges[0].counts"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "spoil", "field"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_booking_is_422_naming_the_field_and_leaves_nothing(
    client: TestClient, booking: User, session: Session, case: str, spoil: Callable[[dict[str, Any]], None], field: str
) -> None:
    body = copy.deepcopy(arrest_body())
    spoil(body)
    errors = _errors(client.post("/api/v1/arrests", json=body, headers=booking.headers))
    assert field in errors, errors
    assert session.scalar(select(func.count()).select_from(Arrest)) == 0


def test_arrest_up_to_five_minutes_ahead_is_accepted(client: TestClient, booking: User) -> None:
    ahead = (START + timedelta(minutes=4)).isoformat()
    body = arrest_body()
    body["arrest"]["arrested_at"] = ahead
    assert client.post("/api/v1/arrests", json=body, headers=booking.headers).status_code == 201


def test_grade_error_lists_the_recorded_grades(client: TestClient, booking: User) -> None:
    body = arrest_body(charges=[{"statute": "18 § 6106 §§ A1", "grade": "M3"}])
    message = _errors(client.post("/api/v1/arrests", json=body, headers=booking.headers))["charges[0].grade"]
    assert "F3" in message


def test_invalid_second_charge_leaves_nothing_behind(client: TestClient, booking: User, session: Session) -> None:
    audit_before = session.scalar(select(func.count()).select_from(AuditEntry))
    body = arrest_body(
        person={**arrest_body()["person"], "identifiers": {"sid": "2841937-3"}},
        charges=[{"statute": "18 § 2701 §§ A1", "grade": "M2"}, {"statute": "18 § 2701 §§ A1", "grade": "H1"}],
    )
    errors = _errors(client.post("/api/v1/arrests", json=body, headers=booking.headers))
    assert list(errors) == ["charges[1].grade"]
    for table in (Arrest, Person, Charge, OutboxEvent):
        assert session.scalar(select(func.count()).select_from(table)) == 0, table
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def _identity(record: dict[str, Any]) -> tuple[str, str]:
    ids = record["person"]["identifiers"]
    return ids["person_id"], ids["ppn"]


def _person(**changes: Any) -> dict[str, Any]:
    person: dict[str, Any] = copy.deepcopy(arrest_body()["person"])
    for key, value in changes.items():
        person[key] = value
    return person


def test_same_sid_is_the_same_person_even_under_another_name(book: Callable[..., dict[str, Any]]) -> None:
    first = book(person=_person(identifiers={"sid": "2841937-3"}))
    other_name = book(person=_person(identifiers={"sid": "2841937-3"}, name={"first": "Anna", "last": "Pena-Ruiz"}))
    assert _identity(first) == _identity(other_name)
    assert other_name["person"]["identifiers"]["sid"] == "2841937-3"


def test_same_fbi_number_is_the_same_person(book: Callable[..., dict[str, Any]]) -> None:
    first = book(person=_person(fbi_number="493021KD8"))
    second = book(person=_person(fbi_number="493021KD8", name={"first": "A.", "last": "Pena"}, dob="1990-05-05"))
    assert _identity(first) == _identity(second)


def test_same_normalised_name_and_dob_is_the_same_person(book: Callable[..., dict[str, Any]]) -> None:
    first = book()
    second = book(person=_person(name={"first": "  ANA ", "last": "PENA"}))
    assert _identity(first) == _identity(second)
    # Stored exactly as entered on each arrest.
    assert second["person"]["name"]["last"] == "PENA" and first["person"]["name"]["last"] == "Peña"


def test_same_name_with_another_dob_is_another_person(book: Callable[..., dict[str, Any]]) -> None:
    first = book()
    second = book(person=_person(dob="1991-05-04"))
    assert first["person"]["identifiers"]["person_id"] != second["person"]["identifiers"]["person_id"]
    assert first["person"]["identifiers"]["ppn"] != second["person"]["identifiers"]["ppn"]


def test_tracking_numbers_are_unique_and_valid(book: Callable[..., dict[str, Any]]) -> None:
    numbers = [book()["tracking_number"] for _ in range(5)]
    assert len(set(numbers)) == 5
    assert all(is_valid_tracking_number(n) for n in numbers)


NAMES: list[dict[str, str | None]] = [
    {"first": "José", "middle": "Ángel", "last": "Muñoz Peña", "suffix": "Jr."},
    {"first": "Thị Minh", "middle": None, "last": "Nguyễn", "suffix": None},
    {"first": "محمد", "middle": None, "last": "عبد الله", "suffix": None},
    {"first": "伟", "middle": None, "last": "王", "suffix": None},
    {"first": "Siobhán", "middle": None, "last": "O'Brien", "suffix": None},
    {"first": "Mary-Kate", "middle": None, "last": "Smith-Jones", "suffix": "III"},
    {"first": "Zoë", "middle": None, "last": "Ĳsselmeer\u0301", "suffix": None},
]


@pytest.mark.parametrize("name", NAMES, ids=[n["last"] for n in NAMES])
def test_names_round_trip_exactly_and_are_found_without_accents(
    client: TestClient, booking: User, book: Callable[..., dict[str, Any]], name: dict[str, Any]
) -> None:
    record = book(person=_person(name=name))
    assert record["person"]["name"] == name
    stored = client.get(f"/api/v1/arrests/{record['id']}", headers=booking.headers).json()
    assert stored["person"]["name"] == name
    plain = {"last_name": _strip(name["last"]).upper(), "first_name": _strip(name["first"]).lower()}
    found = client.get("/api/v1/arrests", params=plain, headers=booking.headers).json()["items"]
    assert [r["id"] for r in found] == [record["id"]]


def _strip(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def test_decomposed_and_composed_spellings_are_kept_apart_in_storage_but_match(
    client: TestClient, booking: User, book: Callable[..., dict[str, Any]]
) -> None:
    decomposed = "Pen\u0303a"
    record = book(person=_person(name={"first": "Ana", "last": decomposed}))
    assert record["person"]["name"]["last"] == decomposed  # not normalised to "Peña"
    found = client.get("/api/v1/arrests", params={"last_name": "Peña", "dob": "1990-05-04"}, headers=booking.headers)
    assert record["id"] in [r["id"] for r in found.json()["items"]]


def test_booking_time_is_the_injected_clock(
    client: TestClient, booking: User, clock: FrozenClock, session: Session
) -> None:
    clock.advance(timedelta(days=3))
    body = arrest_body()
    body["arrest"]["arrested_at"] = "2026-03-20T10:00:00-04:00"
    assert client.post("/api/v1/arrests", json=body, headers=booking.headers).status_code == 201
    created = session.scalars(select(Arrest.created_at)).one()
    assert created == START + timedelta(days=3)
