"""The record's one definition against real arrests and CONTRACT §4: every member of a city
user's record is there (null only where the contract allows), the API sends exactly the model's
JSON, and the names agreements grant and the labels pages show come from the same definition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.records import fields
from pars.records.models import Arrest
from pars.records.record import ArrestRecord
from pars.records.serialize import arrest_record
from tests.conftest import User, arrest_body

Make = Callable[..., dict[str, Any]]
NAME = ["first", "middle", "last", "suffix"]
PARTY = {"name": {"first": "Kim", "middle": None, "last": "Lee", "suffix": None}, "dob": "1980-01-01",
         "address": {"street": "1 Main St", "city": "Philadelphia", "state": "PA", "zip": "19100"}, "phone": "215"}  # fmt: skip
# CONTRACT §4, written out here rather than read from the definition.
TOP = ["id", "tracking_number", "status", "sealed", "person", "arrest", "charges", "charging", "arraignment",
       "custody", "narrative", "victims", "witnesses"]  # fmt: skip
PERSON = ["name", "aliases", "dob", "sex", "race", "ethnicity", "place_of_birth", "citizenship", "address", "phone",
          "ssn", "identifiers"]  # fmt: skip
ARREST = ["arrested_at", "location", "district", "incident_number", "arresting_agency", "arresting_officer"]
CHARGE = ["sequence", "statute", "title", "section", "subsection", "grade", "description", "counts", "status"]
CHARGING = ["decision", "decided_at", "docket_number", "notes"]
ARRAIGNMENT = ["held_at", "bail_type", "bail_amount", "conditions", "next_hearing_at"]
CUSTODY = ["status", "facility", "released_at", "release_reason"]


def _every_member_set(model: BaseModel, where: str = "record") -> None:
    """Every member of the model, and of each model it holds, was given: none fell back to a
    default (the city's record has no optional member, only nullable ones)."""
    assert model.model_fields_set == set(type(model).model_fields), where
    for name in type(model).model_fields:
        value = getattr(model, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                _every_member_set(item, f"{where}.{name}")


def _book_in_every_state(walk: Make) -> None:
    person = {**arrest_body()["person"], "aliases": [{"first": "Annie", "last": "Pena"}], "sid": "S-1"}
    for status in ("booked", "charges_approved", "arraigned", "committed", "released"):
        walk(status, person=person, victims=[PARTY], witnesses=[PARTY, {"name": {"last": "Roe"}}])


def test_the_record_of_real_arrests_has_every_member_and_is_what_the_api_sends(
    client: TestClient, walk: Make, booking: User, session: Session
) -> None:
    _book_in_every_state(walk)
    session.expire_all()
    arrests = list(session.scalars(select(Arrest)))
    assert len(arrests) == 5
    for arrest in arrests:
        record = arrest_record(arrest)
        _every_member_set(record)
        assert ArrestRecord.model_validate_json(record.model_dump_json()) == record
        answer = client.get(f"/api/v1/arrests/{arrest.id}", headers=booking.headers)
        assert answer.status_code == 200
        assert answer.content == record.model_dump_json().encode()
        body = answer.json()
        assert list(body) == TOP and list(body["person"]) == PERSON and list(body["arrest"]) == ARREST
        assert list(body["person"]["name"]) == NAME and [list(a) for a in body["person"]["aliases"]] == [NAME]
        assert list(body["person"]["address"]) == ["street", "city", "state", "zip"]
        assert list(body["person"]["identifiers"]) == ["person_id", "ppn", "sid", "fbi_number"]
        assert all(list(c) == CHARGE for c in body["charges"])
        assert body["charging"] is None or list(body["charging"]) == CHARGING
        assert body["arraignment"] is None or list(body["arraignment"]) == ARRAIGNMENT
        assert list(body["custody"]) == CUSTODY
        assert [list(p) for p in body["victims"] + body["witnesses"]] == [["name", "dob", "address", "phone"]] * 3
        # Instants leave in UTC with a numeric offset, as they always have.
        assert body["arrest"]["arrested_at"] == "2026-03-17T13:30:00+00:00"
    released = next(arrest_record(a) for a in arrests if a.status == "released")
    assert released.custody.released_at is not None and released.arraignment is not None
    assert released.arraignment.bail_amount == 5000.0


def test_the_grantable_names_are_the_contracts() -> None:
    """What agreements may name (CONTRACT §4), derived from the definition: the head and
    `sealed` are not grantable, `person` and `arrest` are granted member by member."""
    assert fields.ALWAYS_PRESENT == ("id", "tracking_number", "status")
    named = (
        *(f"person.{m}" for m in PERSON), *(f"arrest.{m}" for m in ARREST),
        "charges", "charging", "arraignment", "custody", "narrative", "victims", "witnesses",
    )  # fmt: skip
    assert named == fields.RECORD_FIELDS


def test_the_pages_label_every_member_a_partner_may_receive() -> None:
    """The partner page shows a member by its label (`fields.LABELS`, from the definition's
    titles; `shape.labels` refuses a grantable member without one); the labels the page had
    before the definition carried them are kept."""
    for name in [*fields.ALWAYS_PRESENT, *(path.rsplit(".", 1)[-1] for path in fields.RECORD_FIELDS)]:
        assert fields.LABELS[name], name
    assert fields.LABELS["id"] == "Record id" and fields.LABELS["arrested_at"] == "Arrested"
    assert fields.LABELS["charging"] == "Charging decision" and fields.LABELS["sequence"] == "No."
    instants = {"arrested_at", "decided_at", "held_at", "next_hearing_at", "released_at"}
    assert instants == fields.INSTANTS
