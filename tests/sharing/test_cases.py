"""CONTRACT §7, registered cases: registering, reading, closing, who sees what, bad input, the
subjects kept only as keyed hashes, and what the gate makes of a case reference."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.clock import FrozenClock
from pars.permissions import Role
from pars.sharing import cases
from tests.conftest import User, arrest_body
from tests.sharing.conftest import partner_headers

Make = Callable[..., dict[str, Any]]
CASE: dict[str, Any] = {
    "reference": "FBI-PH-2026-0042",
    "title": "Kensington firearms trafficking",
    "opened_at": "2026-03-01T09:00:00-05:00",
    "subjects": [
        {"last_name": "Peña", "first_name": "Ana", "dob": "1990-05-04"},
        {"last_name": "Ortiz"},
    ],
}


def _entries(session: Session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def _register(client: TestClient, user: User, **changes: Any) -> dict[str, Any]:
    response = client.post("/api/v1/cases", json={**CASE, **changes}, headers=user.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _counts(reader: Engine) -> tuple[int, int]:
    with reader.connect() as connection:
        cases = connection.execute(text("SELECT count(*) FROM registered_cases")).scalar_one()
        subjects = connection.execute(text("SELECT count(*) FROM case_subjects")).scalar_one()
    return int(cases), int(subjects)


def test_a_partner_registers_reads_and_closes_its_case(
    client: TestClient, fbi: User, session: Session, clock: FrozenClock
) -> None:
    case = _register(client, fbi)
    assert set(case) == {"id", "agency", "reference", "title", "opened_at", "closed_at", "subjects"}
    assert case["reference"] == "FBI-PH-2026-0042" and case["title"] == CASE["title"]
    assert case["agency"] == "FBI" and case["subjects"] == 2 and case["closed_at"] is None
    assert case["opened_at"] == "2026-03-01T14:00:00+00:00"
    read = client.get(f"/api/v1/cases/{case['id']}", headers=fbi.headers)
    assert read.status_code == 200 and read.json() == case
    listed = client.get("/api/v1/cases", headers=fbi.headers).json()
    assert listed == {"items": [case], "next_cursor": None}
    closed = client.post(f"/api/v1/cases/{case['id']}/close", headers=fbi.headers)
    assert closed.status_code == 200 and closed.json()["closed_at"] == clock.now().isoformat()
    again = client.post(f"/api/v1/cases/{case['id']}/close", headers=fbi.headers)
    assert again.status_code == 409 and "already closed" in again.json()["detail"]
    assert [(e.action, e.outcome, e.target) for e in _entries(session, "case.register")] == [
        ("case.register", "ok", case["id"])
    ]
    register = _entries(session, "case.register")[0]
    assert register.details == {"reference": "FBI-PH-2026-0042", "subjects": 2}
    assert [e.target for e in _entries(session, "case.read")] == [case["id"], None]
    assert [e.outcome for e in _entries(session, "case.close")] == ["ok"]


def test_opened_at_defaults_to_now(client: TestClient, fbi: User, clock: FrozenClock) -> None:
    body = {"reference": "R-1", "title": "A case without subjects"}
    response = client.post("/api/v1/cases", json=body, headers=fbi.headers)
    assert response.status_code == 201
    assert response.json()["opened_at"] == clock.now().isoformat() and response.json()["subjects"] == 0


def test_who_sees_which_cases(client: TestClient, fbi: User, make_user: Callable[..., User]) -> None:
    atf = make_user(Role.PARTNER, agency="ATF")
    mine, theirs = _register(client, fbi), _register(client, atf, reference="ATF-1")
    # Another agency's case does not exist for a partner: 404, never 403, on read and close.
    assert client.get(f"/api/v1/cases/{theirs['id']}", headers=fbi.headers).status_code == 404
    assert client.post(f"/api/v1/cases/{theirs['id']}/close", headers=fbi.headers).status_code == 404
    assert [c["id"] for c in client.get("/api/v1/cases", headers=fbi.headers).json()["items"]] == [mine["id"]]
    assert [c["id"] for c in client.get("/api/v1/cases?agency=ATF", headers=fbi.headers).json()["items"]] == [
        mine["id"]
    ]
    for role in (Role.GOVERNANCE, Role.OVERSIGHT):
        reader = make_user(role, agency="CITY")
        listed = client.get("/api/v1/cases", headers=reader.headers).json()["items"]
        assert {(c["agency"], c["reference"]) for c in listed} == {("FBI", CASE["reference"]), ("ATF", "ATF-1")}
        only = client.get("/api/v1/cases", params={"agency": "ATF"}, headers=reader.headers).json()["items"]
        assert [c["id"] for c in only] == [theirs["id"]]
        assert client.get(f"/api/v1/cases/{mine['id']}", headers=reader.headers).json() == mine
        # Reading is all they may do.
        assert client.post(f"/api/v1/cases/{mine['id']}/close", headers=reader.headers).status_code == 403
        assert client.post("/api/v1/cases", json=CASE, headers=reader.headers).status_code == 403
    booking = make_user(Role.BOOKING)
    assert client.get("/api/v1/cases", headers=booking.headers).status_code == 403


def test_the_list_pages_newest_first(client: TestClient, fbi: User, clock: FrozenClock) -> None:
    made = []
    for n in range(3):
        made.append(_register(client, fbi, reference=f"R-{n}", subjects=[])["id"])
        clock.advance(timedelta(minutes=1))
    first = client.get("/api/v1/cases", params={"limit": 2}, headers=fbi.headers).json()
    second = client.get("/api/v1/cases", params={"cursor": first["next_cursor"]}, headers=fbi.headers).json()
    assert [c["id"] for c in first["items"] + second["items"]] == made[::-1]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("changes", "status", "says"),
    [
        ({"reference": "R" * 65}, 400, "at most 64"),
        ({"reference": "R-1\u0000x"}, 400, "control characters"),
        ({"reference": "R-1\nsecret"}, 400, "control characters"),
        ({"reference": "   "}, 422, "reference"),
        ({"title": ""}, 422, "title"),
        ({"subjects": [{"last_name": "Peña", "dob": "2026-02-30"}]}, 422, "subjects[0].dob"),
        ({"subjects": [{"last_name": "Peña", "dob": "1899-12-31"}]}, 422, "subjects[0].dob"),
        ({"subjects": [{"last_name": "Peña", "dob": "2026-03-18"}]}, 422, "subjects[0].dob"),  # tomorrow
        ({"subjects": [{"last_name": ""}]}, 422, "subjects[0].last_name"),
        ({"subjects": [{"last_name": "Ortiz"}, {"last_name": "  "}]}, 422, "subjects[1].last_name"),
        ({"subjects": [{"first_name": "Ana"}]}, 422, "subjects[0].last_name"),
        ({"opened_at": "2026-03-01T09:00:00"}, 422, "opened_at"),
    ],
)
def test_bad_input_is_refused_and_saves_nothing(
    client: TestClient, fbi: User, reader_engine: Engine, changes: dict[str, Any], status: int, says: str
) -> None:
    response = client.post("/api/v1/cases", json={**CASE, **changes}, headers=fbi.headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert says in response.text
    assert "secret" not in response.text and "Peña" not in response.text and "RRRR" not in response.text
    assert _counts(reader_engine) == (0, 0)


def test_a_reference_is_unique_per_agency(
    client: TestClient, fbi: User, make_user: Callable[..., User], reader_engine: Engine
) -> None:
    case = _register(client, fbi)
    client.post(f"/api/v1/cases/{case['id']}/close", headers=fbi.headers)
    duplicate = client.post("/api/v1/cases", json={**CASE, "title": "another"}, headers=fbi.headers)
    assert duplicate.status_code == 409 and "already registered" in duplicate.json()["detail"]
    assert _counts(reader_engine) == (1, 2)
    # Another agency may use the same reference for its own case.
    _register(client, make_user(Role.PARTNER, agency="ATF"))
    assert _counts(reader_engine) == (2, 4)


def test_subjects_are_kept_only_as_keyed_hashes(client: TestClient, fbi: User, reader_engine: Engine) -> None:
    _register(client, fbi)
    with reader_engine.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(text("SELECT * FROM case_subjects ORDER BY shape"))]
        case = dict(connection.execute(text("SELECT * FROM registered_cases")).one()._mapping)
    assert [r["shape"] for r in rows] == ["last", "last+first+dob"]
    assert all(len(r["digest"]) == 32 and int(r["digest"], 16) >= 0 for r in rows)
    stored = f"{rows} {case}".lower()
    for clear in ("peña", "pena", "ortiz", "'ana'", "1990"):
        assert clear not in stored


# --- the gate and registered cases -----------------------------------------------------------


def _firearm(first: str = "Ana", last: str = "Peña", dob: str = "1990-05-04") -> dict[str, Any]:
    person = copy.deepcopy(arrest_body()["person"])
    person["name"] = {"first": first, "middle": None, "last": last, "suffix": None}
    person["dob"] = dob
    return {"person": person, "charges": [{"statute": "18 § 6106 §§ A1", "grade": "F3"}]}


def _case_of_last(session: Session, action: str) -> dict[str, Any] | None:
    entry = _entries(session, action)[-1]
    assert entry.outcome == "ok"
    case: dict[str, Any] | None = entry.details.get("case")
    return case


def test_an_agreement_requiring_registered_cases_refuses_other_references(
    client: TestClient, agreement: Make, fbi: User, book: Make, session: Session
) -> None:
    agreement(require_registered_case=True)
    record = book(**_firearm())
    url = f"/api/v1/arrests/{record['id']}"
    refused = client.get(url, headers=partner_headers(fbi, case="INVENTED-1"))
    assert refused.status_code == 403 and refused.json()["reason"] == "unregistered_case"
    assert "registered" in refused.json()["detail"]
    entry = _entries(session, "arrest.read")[-1]
    assert entry.outcome == "refused" and entry.details["reason"] == "unregistered_case"
    assert entry.details["case_reference"] == "INVENTED-1"
    search = client.get(
        "/api/v1/arrests", params={"last_name": "Peña", "first_name": "Ana"}, headers=partner_headers(fbi, case="X")
    )
    assert search.status_code == 403 and search.json()["reason"] == "unregistered_case"
    searched = _entries(session, "arrest.search")[-1]
    assert searched.details["reason"] == "unregistered_case" and "subject" in searched.details
    case = _register(client, fbi)
    assert client.get(url, headers=partner_headers(fbi, case=f"  {CASE['reference']} ")).status_code == 200
    # A closed case no longer serves.
    client.post(f"/api/v1/cases/{case['id']}/close", headers=fbi.headers)
    assert client.get(url, headers=partner_headers(fbi)).json()["reason"] == "unregistered_case"
    # Another agency's case of the same reference is no case of this one.
    assert client.get(url, headers=partner_headers(fbi, case="ATF-CASE")).status_code == 403


def test_unregistered_case_refusals_count_toward_the_quota(
    client: TestClient, agreement: Make, fbi: User, book: Make
) -> None:
    agreement(require_registered_case=True, daily_query_limit=2)
    record = book(**_firearm())
    url = f"/api/v1/arrests/{record['id']}"
    for _ in range(2):
        assert client.get(url, headers=partner_headers(fbi, case="NONE")).status_code == 403
    _register(client, fbi)
    assert client.get(url, headers=partner_headers(fbi)).status_code == 429


def test_without_the_term_any_reference_serves_and_says_it_is_unregistered(
    client: TestClient, agreement: Make, fbi: User, book: Make, session: Session
) -> None:
    agreement(require_case_reference=False)
    record = book(**_firearm())
    assert client.get(f"/api/v1/arrests/{record['id']}", headers=partner_headers(fbi, case="ANY-1")).status_code == 200
    assert _case_of_last(session, "arrest.read") == {"registered": False, "subjects": 0, "explained": False}
    assert client.get(f"/api/v1/arrests/{record['id']}", headers=partner_headers(fbi, case=None)).status_code == 200
    assert _case_of_last(session, "arrest.read") is None  # no reference, no `case`


def test_a_lookup_of_a_subject_is_explained(
    client: TestClient, agreement: Make, fbi: User, book: Make, session: Session
) -> None:
    agreement(require_registered_case=True)
    _register(client, fbi)  # subjects: Ana Peña 1990-05-04, and anyone named Ortiz
    ana = book(**_firearm())
    ortiz = book(**_firearm(first="Luis", last="ORTÍZ", dob="1979-01-02"))
    stranger = book(**_firearm(first="Rosa", last="Diaz", dob="1981-07-08"))
    namesake = book(**_firearm(first="Ana", last="Peña", dob="1991-01-01"))  # same name, not the subject's dob
    explained = {ana["id"]: True, ortiz["id"]: True, stranger["id"]: False, namesake["id"]: False}
    for arrest_id, expected in explained.items():
        assert client.get(f"/api/v1/arrests/{arrest_id}", headers=partner_headers(fbi)).status_code == 200
        assert _case_of_last(session, "arrest.read") == {"registered": True, "subjects": 2, "explained": expected}
    found = client.get(
        "/api/v1/arrests", params={"last_name": "Diaz", "first_name": "Rosa"}, headers=partner_headers(fbi)
    )
    assert [r["id"] for r in found.json()["items"]] == [stranger["id"]]
    assert _case_of_last(session, "arrest.search") == {"registered": True, "subjects": 2, "explained": False}
    client.get(
        "/api/v1/arrests",
        params={"last_name": "pena", "first_name": "ana", "dob": "1990-05-04"},
        headers=partner_headers(fbi),
    )
    assert _case_of_last(session, "arrest.search") == {"registered": True, "subjects": 2, "explained": True}
    client.get("/api/v1/arrests", params={"last_name": "Nobody", "dob": "1990-05-04"}, headers=partner_headers(fbi))
    assert _case_of_last(session, "arrest.search") == {"registered": True, "subjects": 2, "explained": False}


def test_the_agreement_term_round_trips(client: TestClient, agreement: Make, propose: Make, fbi: User) -> None:
    created = propose(require_registered_case=True)
    assert created["versions"][0]["require_registered_case"] is True
    default = client.get(f"/api/v1/agreements/{created['id']}", headers=fbi.headers).json()
    assert default["versions"][0]["require_registered_case"] is True
    plain = agreement(agency="FBI", effective_from="2027-01-01T00:00:00-05:00", expires_at="2027-06-01T00:00:00-04:00")
    assert plain["versions"][0]["require_registered_case"] is False


def test_a_case_standing_names_only_the_agencys_open_cases(
    client: TestClient, fbi: User, make_user: Callable[..., User], session: Session
) -> None:
    """A reference's standing (read as two columns, the way the gate reads it in its agreement
    statement): an open case with subjects, one without, a closed one, another agency's, and a
    reference nobody registered."""
    atf = make_user(Role.PARTNER, agency="ATF")
    _register(client, fbi)
    _register(client, fbi, reference="NO-SUBJECTS", subjects=[])
    closed = _register(client, fbi, reference="CLOSED")
    assert client.post(f"/api/v1/cases/{closed['id']}/close", headers=fbi.headers).status_code == 200
    _register(client, atf, reference="ATF-1")
    session.expire_all()
    read = {
        (agency, reference): cases.standing(session, agency, f" {reference} ")
        for agency in ("FBI", "ATF")
        for reference in (CASE["reference"], "NO-SUBJECTS", "CLOSED", "ATF-1", "NOBODY")
    }
    registered = {key: value for key, value in read.items() if value.registered}
    assert set(registered) == {("FBI", CASE["reference"]), ("FBI", "NO-SUBJECTS"), ("ATF", "ATF-1")}
    assert registered["FBI", "NO-SUBJECTS"].subjects == 0 and not registered["FBI", "NO-SUBJECTS"].hashes
    subjects = registered["FBI", CASE["reference"]]
    assert subjects.subjects == len(CASE["subjects"]) and len(subjects.hashes) == len(CASE["subjects"])
    assert all(digest and shape for shape, digest in subjects.hashes)
