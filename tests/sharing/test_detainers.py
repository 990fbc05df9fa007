"""CONTRACT §8: detainer requests are recorded; only a judicial warrant earns a notice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.permissions import Role
from pars.sharing.models import DetainerRequest
from tests.conftest import User, audit_actions

Make = Callable[..., dict[str, Any]]
WARRANT = {"number": "2:26-mj-00412", "court": "U.S. District Court, E.D. Pa.", "judge": "Hon. A. Rivera", "signed_at": "2026-03-16T10:00:00-04:00"}  # fmt: skip


@pytest.fixture
def ice(make_user: Callable[..., User]) -> User:
    return make_user(Role.PARTNER, agency="ICE")


def test_with_a_judicial_warrant_it_is_accepted(
    client: TestClient, ice: User, book: Make, booking: User, session: Session
) -> None:
    record = book()
    body = {"arrest_id": record["id"], "type": "notification", "judicial_warrant": WARRANT, "document_ref": "I-247A"}
    response = client.post("/api/v1/detainers", json=body, headers=ice.headers)
    assert response.status_code == 201
    detainer = response.json()
    assert detainer["arrest_id"] == record["id"] and detainer["status"] == "accepted"
    assert "warrant" in detainer["reason"]
    # Nobody is held: the record's custody is untouched.
    assert client.get(f"/api/v1/arrests/{record['id']}", headers=booking.headers).json()["custody"] == record["custody"]
    stored = session.scalars(select(DetainerRequest)).one()
    assert stored.judicial_warrant is not None and stored.judicial_warrant["judge"] == "Hon. A. Rivera"
    assert ("detainer.file", "ok") in audit_actions(session)


@pytest.mark.parametrize(
    "warrant",
    [
        None,
        {**WARRANT, "judge": None},
        {**WARRANT, "number": ""},
        {k: v for k, v in WARRANT.items() if k != "signed_at"},
    ],
)
def test_without_a_complete_judicial_warrant_it_is_declined(
    client: TestClient, ice: User, book: Make, warrant: dict[str, Any] | None
) -> None:
    record = book()
    body = {"arrest_id": record["id"], "type": "hold", "judicial_warrant": warrant, "document_ref": "I-247A"}
    response = client.post("/api/v1/detainers", json=body, headers=ice.headers)
    assert response.status_code == 201
    assert response.json()["status"] == "declined"
    assert "judicial warrant" in response.json()["reason"]


def test_needs_no_agreement_but_an_existing_unsealed_arrest(
    client: TestClient, ice: User, walk: Make, magistrate: User
) -> None:
    unknown = {"arrest_id": "6f1c0a56-8a51-4f63-9a5b-1a2b3c4d5e6f", "type": "hold", "judicial_warrant": WARRANT}
    assert client.post("/api/v1/detainers", json=unknown, headers=ice.headers).status_code == 404
    record = walk("released")
    client.post(f"/api/v1/arrests/{record['id']}/seal", json={"order_ref": "X"}, headers=magistrate.headers)
    sealed = {"arrest_id": record["id"], "type": "hold", "judicial_warrant": WARRANT}
    assert client.post("/api/v1/detainers", json=sealed, headers=ice.headers).status_code == 404


def test_each_agency_lists_only_its_own(
    client: TestClient, ice: User, make_user: Callable[..., User], book: Make, booking: User
) -> None:
    fbi = make_user(Role.PARTNER, agency="FBI")
    record = book()
    mine = client.post(
        "/api/v1/detainers", json={"arrest_id": record["id"], "type": "hold"}, headers=ice.headers
    ).json()
    client.post("/api/v1/detainers", json={"arrest_id": record["id"], "type": "notification"}, headers=fbi.headers)
    listed = client.get("/api/v1/detainers", headers=ice.headers).json()
    assert [d["id"] for d in listed["items"]] == [mine["id"]]
    assert (
        client.post(
            "/api/v1/detainers", json={"arrest_id": record["id"], "type": "hold"}, headers=booking.headers
        ).status_code
        == 403
    )
