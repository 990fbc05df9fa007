"""CONTRACT §7: what a partner receives, through get and search, and what is refused."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.clock import FrozenClock
from tests.conftest import User, arrest_body
from tests.sharing.conftest import TERMS, partner_headers

Make = Callable[..., dict[str, Any]]
GRANTED = {"person": {"name", "dob", "identifiers"}, "arrest": {"arrested_at"}}


def _firearm(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(arrest_body(charges=[{"statute": "18 § 6106 §§ A1", "grade": "F3"}]))
    body.update(changes)
    return body


def _entries(session: Session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_partner_gets_only_the_granted_fields(
    client: TestClient, agreement: Make, fbi: User, book: Make, booking: User, session: Session
) -> None:
    agreement_id = agreement()["id"]
    record = book(**_firearm())
    response = client.get(f"/api/v1/arrests/{record['id']}", headers=partner_headers(fbi))
    assert response.status_code == 200, response.text
    shared = response.json()
    assert set(shared) == {"id", "tracking_number", "status", "person", "arrest", "charges", "custody"}
    assert set(shared["person"]) == GRANTED["person"] and set(shared["arrest"]) == GRANTED["arrest"]
    full = client.get(f"/api/v1/arrests/{record['id']}", headers=booking.headers).json()
    assert shared["person"]["name"] == full["person"]["name"] and shared["charges"] == full["charges"]
    assert "place_of_birth" not in response.text and "San Juan" not in response.text
    disclosure = [e for e in _entries(session, "arrest.read") if e.agency == "FBI"][-1]
    assert disclosure.outcome == "ok"
    assert disclosure.details["agreement_id"] == agreement_id and disclosure.details["agreement_version"] == 1
    assert disclosure.details["purpose"] == "criminal_investigation"
    assert disclosure.details["case_reference"] == "FBI-PH-2026-0042"
    assert disclosure.details["channel"] == "query"
    assert disclosure.details["records"] == [record["id"]]
    assert disclosure.details["fields"] == sorted(["id", "tracking_number", "status", *TERMS["fields"]])


def test_city_user_still_gets_the_whole_record(client: TestClient, agreement: Make, book: Make, booking: User) -> None:
    agreement()
    record = book()
    full = client.get(f"/api/v1/arrests/{record['id']}", headers=booking.headers).json()
    assert full == record
    assert full["person"]["place_of_birth"] == "San Juan, PR"


def test_out_of_scope_sealed_and_unknown_records_are_404_alike(
    client: TestClient, agreement: Make, fbi: User, book: Make, walk: Make, magistrate: User, session: Session
) -> None:
    agreement()
    drugs = book(charges=[{"statute": "35 § 780-113 §§ A16", "grade": "M"}])  # title 35: outside scope
    sealed = walk("released", **_firearm())
    client.post(f"/api/v1/arrests/{sealed['id']}/seal", json={"order_ref": "X-1"}, headers=magistrate.headers)
    unknown = "6f1c0a56-8a51-4f63-9a5b-1a2b3c4d5e6f"
    bodies = []
    for arrest_id in (drugs["id"], sealed["id"], unknown):
        response = client.get(f"/api/v1/arrests/{arrest_id}", headers=partner_headers(fbi))
        assert response.status_code == 404
        bodies.append(response.json()["detail"])
    assert len(set(bodies)) == 1
    refusals = [e for e in _entries(session, "arrest.read") if e.outcome == "refused"]
    assert [e.target for e in refusals] == [drugs["id"], sealed["id"], unknown]
    assert {e.details["reason"] for e in refusals} == {"not_found_or_out_of_scope"}


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"PARS-Case-Reference": "C-1"}, "purpose_not_permitted"),
        ({"PARS-Purpose": "firearms_investigation", "PARS-Case-Reference": "C-1"}, "purpose_not_permitted"),
        ({"PARS-Purpose": "civil_immigration_enforcement", "PARS-Case-Reference": "C-1"}, "purpose_not_permitted"),
        ({"PARS-Purpose": "criminal_investigation"}, "case_reference_required"),
        ({"PARS-Purpose": "criminal_investigation", "PARS-Case-Reference": "  "}, "case_reference_required"),
    ],
)
def test_purpose_and_case_reference_are_required(
    client: TestClient, agreement: Make, fbi: User, book: Make, session: Session, headers: dict[str, str], reason: str
) -> None:
    agreement()
    record = book(**_firearm())
    response = client.get(f"/api/v1/arrests/{record['id']}", headers={**fbi.headers, **headers})
    assert response.status_code == 403
    assert "Peña" not in response.text
    assert _entries(session, "arrest.read")[-1].details["reason"] == reason


def test_no_case_reference_needed_when_the_agreement_says_so(
    client: TestClient, agreement: Make, fbi: User, book: Make
) -> None:
    agreement(require_case_reference=False)
    record = book(**_firearm())
    assert client.get(f"/api/v1/arrests/{record['id']}", headers=partner_headers(fbi, case=None)).status_code == 200


def test_query_channel_must_be_granted(
    client: TestClient, agreement: Make, fbi: User, book: Make, session: Session
) -> None:
    agreement(channels=["feed"])
    record = book(**_firearm())
    assert client.get(f"/api/v1/arrests/{record['id']}", headers=partner_headers(fbi)).status_code == 403
    assert _entries(session, "arrest.read")[-1].details["reason"] == "channel_not_permitted"


def test_no_agreement_means_403(client: TestClient, fbi: User, book: Make) -> None:
    record = book()
    response = client.get(f"/api/v1/arrests/{record['id']}", headers=partner_headers(fbi))
    assert response.status_code == 403 and "no data-sharing agreement" in response.json()["detail"]


def test_partner_search_finds_only_in_scope_records_projected(
    client: TestClient, agreement: Make, fbi: User, book: Make, session: Session
) -> None:
    agreement()
    gun = book(**_firearm())
    book(charges=[{"statute": "35 § 780-113 §§ A16", "grade": "M"}])  # same person, out of scope
    response = client.get(
        "/api/v1/arrests", params={"last_name": "PENA", "dob": "1990-05-04"}, headers=partner_headers(fbi)
    )
    assert response.status_code == 200
    items = response.json()["items"]
    assert [r["id"] for r in items] == [gun["id"]]
    assert set(items[0]["person"]) == GRANTED["person"]
    disclosure = _entries(session, "arrest.search")[-1]
    assert disclosure.outcome == "ok" and disclosure.details["records"] == [gun["id"]]


@pytest.mark.parametrize(
    "params",
    [{"last_name": "Peña"}, {"first_name": "Ana"}, {"dob": "1990-05-04"}, {"status": "booked"}, {}],
)
def test_partner_search_must_name_a_person_or_a_case(
    client: TestClient, agreement: Make, fbi: User, book: Make, session: Session, params: dict[str, str]
) -> None:
    agreement()
    book(**_firearm())
    response = client.get("/api/v1/arrests", params=params, headers=partner_headers(fbi))
    assert response.status_code == 403
    assert _entries(session, "arrest.search")[-1].details["reason"] == "search_too_broad"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [({"district": "24", "sid": "1"}, "district"), ({"incident_number": "2624001234"}, "incident_number"),
     ({"docket_number": "MC-51-CR-0000001-2026"}, "docket_number")],
)  # fmt: skip
def test_search_parameters_need_their_field_granted(
    client: TestClient, agreement: Make, fbi: User, session: Session, params: dict[str, str], parameter: str
) -> None:
    agreement()
    response = client.get("/api/v1/arrests", params=params, headers=partner_headers(fbi))
    assert response.status_code == 403 and parameter in response.json()["detail"]
    assert _entries(session, "arrest.search")[-1].details["reason"] == "parameter_not_granted"


def test_identifier_search_by_tracking_number(client: TestClient, agreement: Make, fbi: User, book: Make) -> None:
    agreement()
    gun = book(**_firearm())
    response = client.get(
        "/api/v1/arrests", params={"tracking_number": gun["tracking_number"]}, headers=partner_headers(fbi)
    )
    assert [r["id"] for r in response.json()["items"]] == [gun["id"]]


def test_protected_field_probe_is_403_for_partners_too(client: TestClient, agreement: Make, fbi: User) -> None:
    agreement()
    response = client.get(
        "/api/v1/arrests", params={"place_of_birth": "Mexico", "sid": "1"}, headers=partner_headers(fbi)
    )
    assert response.status_code == 403


def test_daily_query_limit_counts_refusals_and_says_when_to_retry(
    client: TestClient, agreement: Make, fbi: User, book: Make, clock: FrozenClock, session: Session
) -> None:
    agreement(daily_query_limit=3)
    record = book(**_firearm())
    url = f"/api/v1/arrests/{record['id']}"
    assert client.get(url, headers=partner_headers(fbi)).status_code == 200
    assert client.get(url, headers={**fbi.headers, "PARS-Purpose": "nonsense"}).status_code == 403  # counts too
    assert client.get(url, headers=partner_headers(fbi)).status_code == 200
    over = client.get(url, headers=partner_headers(fbi))
    assert over.status_code == 429
    # 15:00 in Philadelphia (EDT): nine hours to midnight, city time.
    assert over.headers["Retry-After"] == str(9 * 3600)
    assert over.headers["content-type"] == "application/problem+json"
    assert _entries(session, "arrest.read")[-1].details["reason"] == "daily_query_limit_reached"
    clock.advance(timedelta(hours=9))
    assert client.get(url, headers=partner_headers(fbi)).status_code == 200


EXPIRY_CASES = [
    # (expires_at as written, the last instant that still discloses, UTC)
    ("2026-09-01T00:00:00-04:00", datetime(2026, 9, 1, 4, 0, tzinfo=UTC)),
    # Spring forward: 02:00 EST jumps to 03:00 EDT on 8 March 2026.
    ("2026-03-08T03:00:00-04:00", datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
    # Fall back: 01:30 happens twice on 1 November 2026; this is the second (EST) one.
    ("2026-11-01T01:30:00-05:00", datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),
]


@pytest.mark.parametrize(("expires_at", "instant"), EXPIRY_CASES, ids=["plain", "spring-forward", "fall-back"])
def test_the_last_millisecond_discloses_and_expires_at_refuses(
    client: TestClient, agreement: Make, fbi: User, book: Make, clock: FrozenClock, expires_at: str, instant: datetime
) -> None:
    clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    agreement(effective_from="2026-01-01T00:00:00-05:00", expires_at=expires_at)
    record = book(**_firearm(arrest={**arrest_body()["arrest"], "arrested_at": "2026-02-27T09:30:00-05:00"}))
    url = f"/api/v1/arrests/{record['id']}"
    clock.set(instant - timedelta(milliseconds=1))
    assert client.get(url, headers=partner_headers(fbi)).status_code == 200
    clock.set(instant)
    refused = client.get(url, headers=partner_headers(fbi))
    assert refused.status_code == 403 and "no data-sharing agreement" in refused.json()["detail"]


def test_nothing_before_the_window_opens(client: TestClient, agreement: Make, fbi: User, book: Make) -> None:
    agreement(effective_from="2026-04-01T00:00:00-04:00", expires_at="2027-01-01T00:00:00-05:00")
    record = book(**_firearm())
    assert client.get(f"/api/v1/arrests/{record['id']}", headers=partner_headers(fbi)).status_code == 403


def test_suspension_and_termination_stop_the_very_next_request(
    client: TestClient, agreement: Make, fbi: User, book: Make, governors: dict[str, User], clock: FrozenClock
) -> None:
    agreement_id = agreement()["id"]
    record = book(**_firearm())
    url = f"/api/v1/arrests/{record['id']}"
    assert client.get(url, headers=partner_headers(fbi)).status_code == 200
    client.post(
        f"/api/v1/agreements/{agreement_id}/suspension", json={"reason": "review"}, headers=governors["CITY"].headers
    )
    assert client.get(url, headers=partner_headers(fbi)).status_code == 403
    for code in ("CITY", "DAO"):
        client.delete(f"/api/v1/agreements/{agreement_id}/suspension", headers=governors[code].headers)
    assert client.get(url, headers=partner_headers(fbi)).status_code == 200
    now = clock.now().isoformat()
    client.post(
        f"/api/v1/agreements/{agreement_id}/termination",
        json={"effective_at": now, "reason": "ended"},
        headers=governors["CITY"].headers,
    )
    assert client.get(url, headers=partner_headers(fbi)).status_code == 403


# --- a name search discloses one person or no one (CONTRACT §7) -------------------------------


def _person(first: str, last: str, dob: str) -> dict[str, Any]:
    person: dict[str, Any] = copy.deepcopy(arrest_body()["person"])
    person["name"] = {"first": first, "middle": None, "last": last, "suffix": None}
    person["dob"] = dob
    return person


def test_a_name_matching_two_people_discloses_no_one(
    client: TestClient, agreement: Make, fbi: User, book: Make, session: Session
) -> None:
    agreement()
    book(**_firearm(person=_person("Ana", "Peña", "1990-05-04")))
    book(**_firearm(person=_person("ANA", "Pena", "1985-11-30")))  # a namesake, another person
    response = client.get(
        "/api/v1/arrests", params={"last_name": "Peña", "first_name": "Ana"}, headers=partner_headers(fbi)
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["reason"] == "ambiguous" and problem["persons"] == 2
    assert "date of birth" in problem["detail"] and "identifier" in problem["detail"]
    assert "items" not in problem and "1990" not in response.text and "1985" not in response.text
    entry = _entries(session, "arrest.search")[-1]
    assert entry.outcome == "refused" and entry.agency == "FBI"
    assert entry.details["reason"] == "ambiguous" and entry.details["persons"] == 2
    assert entry.details["parameters"] == ["first_name", "last_name"]
    assert len(entry.details["subject"]) == 32 and "records" not in entry.details
    assert all(word not in str(entry.details).lower() for word in ("peña", "pena", "'ana'"))
    # The same name asked again is recognisable on the trail, though nothing was disclosed.
    client.get("/api/v1/arrests", params={"last_name": "PENA", "first_name": "ana"}, headers=partner_headers(fbi))
    assert _entries(session, "arrest.search")[-1].details["subject"] == entry.details["subject"]


def test_a_date_of_birth_names_the_one_person(client: TestClient, agreement: Make, fbi: User, book: Make) -> None:
    agreement()
    mine = book(**_firearm(person=_person("Ana", "Peña", "1990-05-04")))
    book(**_firearm(person=_person("Ana", "Peña", "1985-11-30")))
    response = client.get(
        "/api/v1/arrests",
        params={"last_name": "Peña", "first_name": "Ana", "dob": "1990-05-04"},
        headers=partner_headers(fbi),
    )
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["items"]] == [mine["id"]]
    assert response.json()["items"][0]["person"]["dob"] == "1990-05-04"


def test_every_arrest_of_the_one_person_matched_is_returned_page_by_page(
    client: TestClient, agreement: Make, fbi: User, book: Make, session: Session
) -> None:
    agreement()
    arrests = [book(**_firearm(person=_person("Ana", "Peña", "1990-05-04"))) for _ in range(3)]
    assert len({a["person"]["identifiers"]["person_id"] for a in arrests}) == 1
    book(**_firearm(person=_person("Ana", "Ortiz", "1990-05-04")))  # another name: not matched
    seen: list[str] = []
    params: dict[str, Any] = {"last_name": "pena", "first_name": "ANA", "limit": 2}
    while True:
        page = client.get("/api/v1/arrests", params=params, headers=partner_headers(fbi))
        assert page.status_code == 200, page.text
        seen += [r["id"] for r in page.json()["items"]]
        if page.json()["next_cursor"] is None:
            break
        params["cursor"] = page.json()["next_cursor"]
    assert sorted(seen) == sorted(a["id"] for a in arrests)
    assert all(e.outcome == "ok" for e in _entries(session, "arrest.search"))


def test_a_namesake_outside_scope_does_not_make_a_search_ambiguous(
    client: TestClient, agreement: Make, fbi: User, book: Make
) -> None:
    agreement()
    gun = book(**_firearm(person=_person("Ana", "Peña", "1990-05-04")))
    other = _person("Ana", "Peña", "1985-11-30")
    book(person=other, charges=[{"statute": "35 § 780-113 §§ A16", "grade": "M"}])  # title 35: outside scope
    response = client.get(
        "/api/v1/arrests", params={"last_name": "Peña", "first_name": "Ana"}, headers=partner_headers(fbi)
    )
    assert response.status_code == 200 and [r["id"] for r in response.json()["items"]] == [gun["id"]]


def test_an_identifier_search_is_never_ambiguous(client: TestClient, agreement: Make, fbi: User, book: Make) -> None:
    agreement(fields=[*TERMS["fields"], "arrest.incident_number"])
    first = book(**_firearm(person=_person("Ana", "Peña", "1990-05-04")))
    second = book(**_firearm(person=_person("Luis", "Ortiz", "1979-01-02")))  # same DC number
    response = client.get("/api/v1/arrests", params={"incident_number": "2624001234"}, headers=partner_headers(fbi))
    assert response.status_code == 200
    assert sorted(r["id"] for r in response.json()["items"]) == sorted([first["id"], second["id"]])


def test_ambiguous_refusals_count_toward_the_daily_quota(
    client: TestClient, agreement: Make, fbi: User, book: Make, session: Session
) -> None:
    agreement(daily_query_limit=2)
    book(**_firearm(person=_person("Ana", "Peña", "1990-05-04")))
    book(**_firearm(person=_person("Ana", "Peña", "1985-11-30")))
    params = {"last_name": "Peña", "first_name": "Ana"}
    for _ in range(2):
        assert (
            client.get("/api/v1/arrests", params=params, headers=partner_headers(fbi)).json()["reason"] == "ambiguous"
        )
    over = client.get("/api/v1/arrests", params={**params, "dob": "1990-05-04"}, headers=partner_headers(fbi))
    assert over.status_code == 429
    refused = _entries(session, "arrest.search")[-1]
    assert refused.details["reason"] == "daily_query_limit_reached"
    # Every refused search names its parameters and subject, the quota's too.
    assert refused.details["parameters"] == ["dob", "first_name", "last_name"] and "subject" in refused.details


def test_every_refused_search_carries_its_parameters_and_subject(
    client: TestClient, agreement: Make, fbi: User, session: Session
) -> None:
    agreement()
    client.get("/api/v1/arrests", params={"last_name": "Peña"}, headers=partner_headers(fbi))  # too broad
    client.get("/api/v1/arrests", params={"last_name": "Peña", "first_name": "Ana"}, headers=fbi.headers)  # purpose
    entries = _entries(session, "arrest.search")
    assert [e.details["reason"] for e in entries] == ["search_too_broad", "purpose_not_permitted"]
    assert entries[0].details["parameters"] == ["last_name"] and len(entries[0].details["subject"]) == 32
    assert entries[1].details["parameters"] == ["first_name", "last_name"] and len(entries[1].details["subject"]) == 32
