"""Complaints about partner agencies (issue 16 item 4): oversight records them and their outcome
through the API; each step is audited without the complaint's words; bad input changes nothing;
`complaints_between` gives the reports typed values."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.oversight.complaints import ComplaintOutcome, ComplaintRecord, complaints_between
from pars.oversight.models import Complaint
from pars.permissions import Role
from tests.conftest import START, User

URL = "/api/v1/oversight/complaints"
TEXT = "Agent asked about my neighbour's immigration status\tafter reading my arrest record.\nSecond line."


@pytest.fixture
def oversight(make_user: Callable[..., User]) -> User:
    make_user(Role.PARTNER, agency="ICE")
    make_user(Role.PARTNER, agency="FBI")
    return make_user(Role.OVERSIGHT, agency="CITY")


def _body(**overrides: object) -> dict[str, object]:
    return {
        "complainant": "A resident, by letter",
        "received_at": (START - timedelta(days=2)).isoformat(),
        "agency": "ICE",
        "text": TEXT,
    } | overrides


def _count(session: Session) -> int:
    session.expire_all()
    return len(session.scalars(select(Complaint)).all())


def _entries(session: Session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_a_complaint_is_recorded_open_read_back_and_audited_without_its_words(
    client: TestClient, oversight: User, session: Session
) -> None:
    made = client.post(URL, json=_body(), headers=oversight.headers)
    assert made.status_code == 201, made.text
    shown = made.json()
    assert shown["complainant"] == "A resident, by letter"
    assert shown["agency"] == "ICE"
    assert shown["text"] == TEXT  # tab and newline are free text
    assert shown["outcome"] == "open"
    assert shown["outcome_note"] is None and shown["closed_at"] is None
    assert datetime.fromisoformat(shown["received_at"]) == START - timedelta(days=2)
    assert datetime.fromisoformat(shown["recorded_at"]) == START
    assert shown["recorded_by"] == oversight.id

    again = client.get(f"{URL}/{shown['id']}", headers=oversight.headers)
    assert again.status_code == 200
    assert again.json() == shown

    [entry] = _entries(session, "oversight.complaint_record")
    assert entry.target == shown["id"]
    assert entry.details["agency"] == "ICE"
    assert entry.details["text_length"] == len(TEXT)
    for stored in _entries(session, "oversight.complaint_record") + _entries(session, "oversight.complaints_read"):
        flat = str(stored.details)
        assert "resident" not in flat and "neighbour" not in flat


def test_received_at_defaults_to_now(client: TestClient, oversight: User) -> None:
    body = _body()
    del body["received_at"]
    made = client.post(URL, json=body, headers=oversight.headers)
    assert made.status_code == 201, made.text
    assert datetime.fromisoformat(made.json()["received_at"]) == START


def test_the_outcome_is_set_changed_and_reopened_each_change_on_the_trail(
    client: TestClient, oversight: User, session: Session
) -> None:
    complaint = client.post(URL, json=_body(), headers=oversight.headers).json()
    url = f"{URL}/{complaint['id']}/outcome"
    closed = client.post(
        url, json={"outcome": "substantiated", "note": "Lookup without a case."}, headers=oversight.headers
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["outcome"] == "substantiated"
    assert closed.json()["outcome_note"] == "Lookup without a case."
    assert datetime.fromisoformat(closed.json()["closed_at"]) == START
    assert closed.json()["closed_by"] == oversight.id

    reopened = client.post(url, json={"outcome": "open", "note": "New evidence."}, headers=oversight.headers)
    assert reopened.json()["outcome"] == "open"
    assert reopened.json()["closed_at"] is None and reopened.json()["closed_by"] is None

    changes = _entries(session, "oversight.complaint_outcome")
    assert [(e.details["previous"], e.details["outcome"]) for e in changes] == [
        ("open", "substantiated"),
        ("substantiated", "open"),
    ]
    assert all("note" not in e.details and e.details["note_length"] > 0 for e in changes)


def test_the_list_is_newest_received_first_filtered_and_paged(client: TestClient, oversight: User) -> None:
    ids = []
    for days, agency in ((5, "ICE"), (3, "FBI"), (1, "ICE")):
        body = _body(agency=agency, received_at=(START - timedelta(days=days)).isoformat())
        ids.append(client.post(URL, json=body, headers=oversight.headers).json()["id"])
    client.post(
        f"{URL}/{ids[0]}/outcome", json={"outcome": "withdrawn", "note": "By phone."}, headers=oversight.headers
    )

    everything = client.get(URL, headers=oversight.headers).json()
    assert [c["id"] for c in everything["items"]] == [ids[2], ids[1], ids[0]]
    assert everything["next_cursor"] is None

    ice = client.get(URL, params={"agency": "ICE"}, headers=oversight.headers).json()
    assert [c["id"] for c in ice["items"]] == [ids[2], ids[0]]
    withdrawn = client.get(URL, params={"outcome": "withdrawn"}, headers=oversight.headers).json()
    assert [c["id"] for c in withdrawn["items"]] == [ids[0]]
    day = (START - timedelta(days=3)).date().isoformat()
    on_day = client.get(URL, params={"from": day, "to": day}, headers=oversight.headers).json()
    assert [c["id"] for c in on_day["items"]] == [ids[1]]

    first = client.get(URL, params={"limit": 2}, headers=oversight.headers).json()
    assert [c["id"] for c in first["items"]] == [ids[2], ids[1]]
    rest = client.get(URL, params={"limit": 2, "cursor": first["next_cursor"]}, headers=oversight.headers).json()
    assert [c["id"] for c in rest["items"]] == [ids[0]] and rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"agency": "PPD"}, "agency"),  # a city agency: complaints here are about partners
        ({"agency": "NOPE"}, "agency"),
        ({"complainant": ""}, "complainant"),
        ({"complainant": "x" * 401}, "complainant"),
        ({"complainant": "a\x00b"}, "complainant"),
        ({"text": "a\x07b"}, "text"),
        ({"text": "x" * 4001}, "text"),
        ({"received_at": "2026-03-10T10:00:00"}, "received_at"),  # no offset
        ({"received_at": (START + timedelta(days=1)).isoformat()}, "received_at"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_complaints_are_422_naming_the_field_and_change_nothing(
    client: TestClient, oversight: User, session: Session, make_user: Callable[..., User],
    overrides: dict[str, object], field: str,
) -> None:  # fmt: skip
    make_user(Role.BOOKING, agency="PPD")
    answer = client.post(URL, json=_body(**overrides), headers=oversight.headers)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"].split(".")[-1] for e in answer.json()["errors"]]
    assert "\x00" not in answer.text and "x" * 401 not in answer.text
    assert _count(session) == 0


def test_a_bad_outcome_or_note_is_422_and_an_unknown_complaint_404(
    client: TestClient, oversight: User, session: Session
) -> None:
    complaint = client.post(URL, json=_body(), headers=oversight.headers).json()
    url = f"{URL}/{complaint['id']}/outcome"
    for body in ({"outcome": "guilty", "note": "x"}, {"outcome": "withdrawn", "note": ""},
                 {"outcome": "withdrawn", "note": "a\x00"}, {"outcome": "withdrawn"}):  # fmt: skip
        assert client.post(url, json=body, headers=oversight.headers).status_code == 422
    session.expire_all()
    assert session.scalars(select(Complaint)).one().outcome == "open"
    missing = f"{URL}/{uuid.uuid4()}"
    assert client.get(missing, headers=oversight.headers).status_code == 404
    body = {"outcome": "withdrawn", "note": "x"}
    assert client.post(f"{missing}/outcome", json=body, headers=oversight.headers).status_code == 404


@pytest.mark.parametrize("role", [Role.GOVERNANCE, Role.BOOKING, Role.PARTNER, Role.ADMIN])
def test_only_oversight_reads_or_records_complaints(
    client: TestClient, oversight: User, make_user: Callable[..., User], role: Role, session: Session
) -> None:
    complaint = client.post(URL, json=_body(), headers=oversight.headers).json()
    other = make_user(role, agency="FBI" if role == Role.PARTNER else "DAO") if role != Role.ADMIN else None
    headers = other.headers if other else {"Authorization": "Bearer pars_test_admin_key_0123456789abcdefghijklmnop"}
    assert client.get(URL, headers=headers).status_code == 403
    assert client.get(f"{URL}/{complaint['id']}", headers=headers).status_code == 403
    assert client.post(URL, json=_body(), headers=headers).status_code == 403
    outcome = {"outcome": "withdrawn", "note": "x"}
    assert client.post(f"{URL}/{complaint['id']}/outcome", json=outcome, headers=headers).status_code == 403
    assert _count(session) == 1


def test_an_idempotent_retry_records_one_complaint(client: TestClient, oversight: User, session: Session) -> None:
    headers = oversight.headers | {"Idempotency-Key": str(uuid.uuid4())}
    first = client.post(URL, json=_body(), headers=headers)
    second = client.post(URL, json=_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert _count(session) == 1
    assert client.post(URL, json=_body(text="other"), headers=headers).status_code == 422
    assert _count(session) == 1


def test_complaints_between_gives_the_reports_typed_values(
    client: TestClient, oversight: User, session: Session
) -> None:
    inside = client.post(URL, json=_body(), headers=oversight.headers).json()
    client.post(URL, json=_body(received_at=(START - timedelta(days=40)).isoformat()), headers=oversight.headers)
    client.post(f"{URL}/{inside['id']}/outcome", json={"outcome": "not_substantiated", "note": "n"},
                headers=oversight.headers)  # fmt: skip
    session.expire_all()
    found = complaints_between(session, START - timedelta(days=30), START)
    assert len(found) == 1
    record = found[0]
    assert isinstance(record, ComplaintRecord)
    assert record.id == uuid.UUID(inside["id"])
    assert record.agency == "ICE" and record.text == TEXT and record.complainant == "A resident, by letter"
    assert record.outcome is ComplaintOutcome.NOT_SUBSTANTIATED and record.outcome_note == "n"
    assert record.received_at == START - timedelta(days=2)
    assert record.recorded_at == START and record.recorded_by == uuid.UUID(oversight.id)
    assert record.closed_at == START and record.received_at.tzinfo is not None
    assert complaints_between(session, START, START + timedelta(days=1)) == []
    assert START.tzinfo is UTC
