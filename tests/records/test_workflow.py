"""CONTRACT §5: each workflow step, its good path and the states that refuse it (409)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.clock import FrozenClock
from pars.outbox.events import OutboxEvent
from tests.conftest import User, arrest_body, audit_actions

Walk = Callable[..., dict[str, Any]]
STATUSES = ["booked", "charges_approved", "charges_declined", "arraigned", "committed", "released"]

ARRAIGN = {
    "held_at": "2026-03-17T14:00:00-04:00",
    "bail_type": "monetary",
    "bail_amount": 2500.5,
    "conditions": "report weekly",
    "next_hearing_at": "2026-03-24T09:00:00-04:00",
}


def _reach(status: str, walk: Walk, client: TestClient, charging: User) -> dict[str, Any]:
    if status == "charges_declined":
        record = walk("booked")
        response = client.post(
            f"/api/v1/arrests/{record['id']}/charging-decision", json={"decision": "declined"}, headers=charging.headers
        )
        return dict(response.json())
    return walk(status)


def _events(session: Session, arrest_id: str) -> list[str]:
    session.expire_all()
    rows = session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))
    return [e.type for e in rows if str(e.arrest_id) == arrest_id]


def test_the_whole_path_to_release(
    client: TestClient, walk: Walk, session: Session, booking: User, charging: User, magistrate: User
) -> None:
    record = walk("booked")
    approved = client.post(
        f"/api/v1/arrests/{record['id']}/charging-decision",
        json={"decision": "approved", "notes": "sufficient evidence"},
        headers=charging.headers,
    ).json()
    assert approved["status"] == "charges_approved"
    charging_part = approved["charging"]
    assert charging_part["decision"] == "approved" and charging_part["notes"] == "sufficient evidence"
    assert charging_part["decided_at"] == "2026-03-17T19:00:00+00:00"
    assert charging_part["docket_number"] == "MC-51-CR-0000001-2026"
    assert [c["status"] for c in approved["charges"]] == ["approved"]

    arraigned = client.post(
        f"/api/v1/arrests/{record['id']}/arraignment", json=ARRAIGN, headers=magistrate.headers
    ).json()
    assert arraigned["status"] == "arraigned"
    assert arraigned["arraignment"] == {
        "held_at": "2026-03-17T18:00:00+00:00",
        "bail_type": "monetary",
        "bail_amount": 2500.5,
        "conditions": "report weekly",
        "next_hearing_at": "2026-03-24T13:00:00+00:00",
    }
    committed = client.post(
        f"/api/v1/arrests/{record['id']}/commitment", json={"facility": "CFCF"}, headers=booking.headers
    ).json()
    assert committed["status"] == "committed"
    assert committed["custody"]["status"] == "committed" and committed["custody"]["facility"] == "CFCF"
    released = client.post(
        f"/api/v1/arrests/{record['id']}/release",
        json={"released_at": "2026-03-17T14:50:00-04:00", "reason": "bail posted"},
        headers=booking.headers,
    ).json()
    assert released["status"] == "released"
    assert released["custody"] == {
        "status": "released", "facility": "CFCF",
        "released_at": "2026-03-17T18:50:00+00:00", "release_reason": "bail posted",
    }  # fmt: skip
    assert _events(session, record["id"]) == [
        "pars.arrest.booked", "pars.arrest.charged", "pars.arrest.arraigned",
        "pars.arrest.committed", "pars.arrest.released",
    ]  # fmt: skip
    actions = [a for a, _ in audit_actions(session)]
    for action in [
        "arrest.create",
        "arrest.charging_decision",
        "arrest.arraignment",
        "arrest.commitment",
        "arrest.release",
    ]:
        assert action in actions


def test_declined_charges_then_release(
    client: TestClient, walk: Walk, charging: User, booking: User, session: Session
) -> None:
    declined = _reach("charges_declined", walk, client, charging)
    assert declined["status"] == "charges_declined"
    assert declined["charging"]["docket_number"] is None
    assert [c["status"] for c in declined["charges"]] == ["declined"]
    assert declined["custody"]["status"] == "in_custody"  # the release is its own step
    released = client.post(
        f"/api/v1/arrests/{declined['id']}/release",
        json={"released_at": "2026-03-17T14:00:00-04:00", "reason": "charges declined"},
        headers=booking.headers,
    ).json()
    assert released["status"] == "released"
    assert _events(session, declined["id"]) == ["pars.arrest.booked", "pars.arrest.declined", "pars.arrest.released"]


def test_modified_charges_keep_what_police_charged(client: TestClient, book: Walk, charging: User) -> None:
    record = book(
        charges=[{"statute": "18 § 2701 §§ A1", "grade": "M2"}, {"statute": "18 § 3502 §§ A1", "grade": "F1"}]
    )
    modified = client.post(
        f"/api/v1/arrests/{record['id']}/charging-decision",
        json={
            "decision": "modified",
            "charges": [
                {"statute": "18 § 2701 §§ A1", "grade": "M2", "counts": 2},
                {"statute": "18 § 3921 §§ A", "grade": "M1"},
            ],
        },
        headers=charging.headers,
    ).json()
    assert modified["status"] == "charges_approved"
    assert modified["charging"]["decision"] == "modified" and modified["charging"]["docket_number"]
    summary = [(c["sequence"], c["statute"], c["counts"], c["status"]) for c in modified["charges"]]
    assert summary == [
        (1, "18 § 2701 §§ A1", 2, "approved"),
        (2, "18 § 3502 §§ A1", 1, "declined"),
        (3, "18 § 3921 §§ A", 1, "approved"),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "modified"}, "charges"),
        ({"decision": "approved", "charges": [{"statute": "18 § 2701 §§ A1", "grade": "M2"}]}, "charges"),
        ({"decision": "modified", "charges": [{"statute": "18 § 2701 §§ A1", "grade": "F1"}]}, "charges[0].grade"),
        ({"decision": "maybe"}, "decision"),
    ],
)
def test_invalid_charging_decision_is_422_and_changes_nothing(
    client: TestClient, book: Walk, charging: User, booking: User, body: dict[str, Any], field: str
) -> None:
    record = book()
    response = client.post(f"/api/v1/arrests/{record['id']}/charging-decision", json=body, headers=charging.headers)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}
    assert client.get(f"/api/v1/arrests/{record['id']}", headers=booking.headers).json()["status"] == "booked"


def test_docket_numbers_count_up_within_the_city_year(
    client: TestClient, book: Walk, charging: User, clock: FrozenClock
) -> None:
    numbers = []
    for _ in range(2):
        record = book()
        response = client.post(
            f"/api/v1/arrests/{record['id']}/charging-decision", json={"decision": "approved"}, headers=charging.headers
        )
        numbers.append(response.json()["charging"]["docket_number"])
    assert numbers == ["MC-51-CR-0000001-2026", "MC-51-CR-0000002-2026"]


STEPS: list[tuple[str, str, dict[str, Any], set[str]]] = [
    ("charging", "charging-decision", {"decision": "approved"}, {"booked"}),
    ("magistrate", "arraignment", ARRAIGN, {"charges_approved"}),
    ("booking", "commitment", {"facility": "CFCF"}, {"arraigned"}),
    ("booking", "release", {"released_at": "2026-03-17T14:50:00-04:00", "reason": "bail posted"},
     {"charges_declined", "arraigned", "committed"}),
]  # fmt: skip


@pytest.mark.parametrize(("who", "step", "body", "allowed"), STEPS, ids=[s[1] for s in STEPS])
@pytest.mark.parametrize("status", STATUSES)
def test_each_step_only_from_the_states_that_allow_it(
    client: TestClient,
    walk: Walk,
    request: pytest.FixtureRequest,
    charging: User,
    status: str,
    who: str,
    step: str,
    body: dict[str, Any],
    allowed: set[str],
) -> None:
    user: User = request.getfixturevalue(who)
    record = _reach(status, walk, client, charging)
    response = client.post(f"/api/v1/arrests/{record['id']}/{step}", json=body, headers=user.headers)
    if status in allowed:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 409, response.text
        assert status in response.json()["detail"]
        booking_user: User = request.getfixturevalue("booking")
        now = client.get(f"/api/v1/arrests/{record['id']}", headers=booking_user.headers).json()
        assert now["status"] == status


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"bail_amount": None}, "bail_amount"),
        ({"bail_amount": -1}, "bail_amount"),
        ({"bail_type": "ROR", "bail_amount": 100}, "bail_amount"),
        ({"next_hearing_at": "2026-03-17T13:00:00-04:00"}, "next_hearing_at"),
        ({"held_at": "2026-03-17T14:00:00"}, "held_at"),
        ({"bail_type": "cash"}, "bail_type"),
        ({"held_at": "2026-03-17T08:00:00-04:00", "next_hearing_at": "2026-03-18T08:00:00-04:00"}, "held_at"),
    ],
)
def test_invalid_arraignment_is_422(
    client: TestClient, walk: Walk, magistrate: User, booking: User, changes: dict[str, Any], field: str
) -> None:
    record = walk("charges_approved")
    response = client.post(
        f"/api/v1/arrests/{record['id']}/arraignment", json={**ARRAIGN, **changes}, headers=magistrate.headers
    )
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}
    assert client.get(f"/api/v1/arrests/{record['id']}", headers=booking.headers).json()["status"] == "charges_approved"


@pytest.mark.parametrize("bail_type", ["ROR", "nonmonetary", "denied", "unsecured"])
def test_bail_types_without_a_monetary_amount(client: TestClient, walk: Walk, magistrate: User, bail_type: str) -> None:
    record = walk("charges_approved")
    body = {**ARRAIGN, "bail_type": bail_type, "bail_amount": None}
    response = client.post(f"/api/v1/arrests/{record['id']}/arraignment", json=body, headers=magistrate.headers)
    assert response.status_code == 200
    assert response.json()["arraignment"]["bail_type"] == bail_type
    assert response.json()["arraignment"]["bail_amount"] is None


def test_release_before_arrest_is_422(client: TestClient, walk: Walk, booking: User) -> None:
    record = walk("arraigned")
    response = client.post(
        f"/api/v1/arrests/{record['id']}/release",
        json={"released_at": "2026-03-16T14:00:00-04:00", "reason": "x"},
        headers=booking.headers,
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "released_at"


def test_sealing_marks_the_record_and_a_second_seal_is_409(
    client: TestClient, walk: Walk, magistrate: User, booking: User, session: Session
) -> None:
    record = walk("released")
    sealed = client.post(
        f"/api/v1/arrests/{record['id']}/seal", json={"order_ref": "CP-51-MD-0001234-2026"}, headers=magistrate.headers
    )
    assert sealed.status_code == 200
    assert sealed.json()["sealed"] is True and sealed.json()["status"] == "released"
    assert client.get(f"/api/v1/arrests/{record['id']}", headers=booking.headers).json()["sealed"] is True
    assert _events(session, record["id"])[-1] == "pars.arrest.withdrawn"
    again = client.post(f"/api/v1/arrests/{record['id']}/seal", json={"order_ref": "x"}, headers=magistrate.headers)
    assert again.status_code == 409


def test_steps_on_an_unknown_arrest_are_404(client: TestClient, charging: User) -> None:
    response = client.post(
        "/api/v1/arrests/6f1c0a56-8a51-4f63-9a5b-1a2b3c4d5e6f/charging-decision",
        json={"decision": "approved"},
        headers=charging.headers,
    )
    assert response.status_code == 404


def test_docket_lists_waiting_cases_oldest_first_with_hours_and_overdue(
    client: TestClient, walk: Walk, magistrate: User, clock: FrozenClock
) -> None:
    old = walk("charges_approved", arrest={**_details(), "arrested_at": "2026-03-16T12:00:00-04:00"})
    new = walk("charges_approved", arrest={**_details(), "arrested_at": "2026-03-17T12:00:00-04:00"})
    walk("arraigned")  # not waiting any more
    walk("booked")  # not yet charged
    docket = client.get("/api/v1/dockets/arraignment", headers=magistrate.headers).json()
    items = docket["items"]
    assert [i["arrest_id"] for i in items] == [old["id"], new["id"]]
    assert items[0]["hours_since_arrest"] == 27.0 and items[0]["overdue"] is True
    assert items[1]["hours_since_arrest"] == 3.0 and items[1]["overdue"] is False
    assert items[0]["tracking_number"] == old["tracking_number"]
    assert items[0]["name"]["last"] == "Peña"
    assert items[0]["charges"][0]["statute"] == "18 § 2701 §§ A1"
    clock.advance(timedelta(hours=20, minutes=59))
    assert [
        i["overdue"] for i in client.get("/api/v1/dockets/arraignment", headers=magistrate.headers).json()["items"]
    ] == [True, False]
    clock.advance(timedelta(minutes=2))
    later = client.get("/api/v1/dockets/arraignment", headers=magistrate.headers).json()["items"]
    assert [i["overdue"] for i in later] == [True, True]


def test_docket_pages_with_a_cursor(client: TestClient, walk: Walk, magistrate: User) -> None:
    ids = [walk("charges_approved")["id"] for _ in range(3)]
    first = client.get("/api/v1/dockets/arraignment?limit=2", headers=magistrate.headers).json()
    second = client.get(
        f"/api/v1/dockets/arraignment?limit=2&cursor={first['next_cursor']}", headers=magistrate.headers
    ).json()
    assert len(first["items"]) == 2 and len(second["items"]) == 1 and second["next_cursor"] is None
    assert {i["arrest_id"] for i in first["items"] + second["items"]} == set(ids)


def _details() -> dict[str, Any]:
    details: dict[str, Any] = arrest_body()["arrest"]
    return details
