"""CONTRACT §2: agencies, users, keys and what each role may do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.auth.keys import digest
from pars.auth.models import ApiKey
from pars.permissions import Role
from tests.conftest import User, arrest_body, audit_actions


def test_admin_creates_an_agency_and_everyone_can_list_agencies(client: TestClient, admin: User, booking: User) -> None:
    body = {"code": "PSP", "name": "Pennsylvania State Police", "ori": "PAPSP0000", "kind": "partner"}
    created = client.post("/api/v1/agencies", json=body, headers=admin.headers)
    assert created.status_code == 201
    assert created.json() == {**body, "stakeholder": False}

    listed = client.get("/api/v1/agencies", headers=booking.headers)
    assert listed.status_code == 200
    codes = [a["code"] for a in listed.json()["items"]]
    assert codes == sorted(codes) and {"PARS", "PPD", "PSP"} <= set(codes)
    assert listed.json()["next_cursor"] is None


def test_agencies_page_with_a_cursor(client: TestClient, admin: User) -> None:
    for code in ["AAA", "BBB", "CCC"]:
        client.post("/api/v1/agencies", json={"code": code, "name": code, "kind": "city"}, headers=admin.headers)
    first = client.get("/api/v1/agencies?limit=2", headers=admin.headers).json()
    second = client.get(f"/api/v1/agencies?limit=2&cursor={first['next_cursor']}", headers=admin.headers).json()
    assert [a["code"] for a in first["items"]] == ["AAA", "BBB"]
    assert [a["code"] for a in second["items"]] == ["CCC", "PARS"]
    assert second["next_cursor"] is None


def test_duplicate_agency_code_is_409_and_changes_nothing(client: TestClient, admin: User) -> None:
    body = {"code": "DAO", "name": "District Attorney", "kind": "city", "stakeholder": True}
    assert client.post("/api/v1/agencies", json=body, headers=admin.headers).status_code == 201
    again = client.post("/api/v1/agencies", json={**body, "name": "Other"}, headers=admin.headers)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    names = [a["name"] for a in client.get("/api/v1/agencies", headers=admin.headers).json()["items"]]
    assert "Other" not in names


def test_a_partner_agency_cannot_be_a_stakeholder(client: TestClient, admin: User) -> None:
    body = {"code": "ICE", "name": "ICE", "kind": "partner", "stakeholder": True}
    response = client.post("/api/v1/agencies", json=body, headers=admin.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "stakeholder"


def test_new_user_gets_a_key_once_and_only_its_digest_is_stored(
    client: TestClient, admin: User, session: Session
) -> None:
    client.post("/api/v1/agencies", json={"code": "PPD", "name": "Police", "kind": "city"}, headers=admin.headers)
    response = client.post(
        "/api/v1/users", json={"agency": "PPD", "name": "Clerk Rivera", "roles": ["booking"]}, headers=admin.headers
    )
    assert response.status_code == 201
    user = response.json()
    assert user["agency"] == "PPD" and user["name"] == "Clerk Rivera" and user["roles"] == ["booking"]
    key = user["api_key"]
    stored = session.scalars(select(ApiKey.digest)).all()
    assert digest(key) in stored and key not in stored
    # The key works at once.
    created = client.post("/api/v1/arrests", json=arrest_body(), headers={"Authorization": f"Bearer {key}"})
    assert created.status_code == 201


@pytest.mark.parametrize(
    ("agency", "kind", "roles"),
    [("FBI", "partner", ["booking"]), ("PPD", "city", ["partner"]), ("FBI", "partner", ["partner", "oversight"])],
)
def test_partner_role_only_for_partner_agencies(
    client: TestClient, admin: User, agency: str, kind: str, roles: list[str]
) -> None:
    client.post("/api/v1/agencies", json={"code": agency, "name": agency, "kind": kind}, headers=admin.headers)
    response = client.post("/api/v1/users", json={"agency": agency, "name": "X", "roles": roles}, headers=admin.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "roles"


def test_unknown_role_and_unknown_agency_are_422(client: TestClient, admin: User) -> None:
    bad_role = client.post(
        "/api/v1/users", json={"agency": "PARS", "name": "X", "roles": ["root"]}, headers=admin.headers
    )
    assert bad_role.status_code == 422 and bad_role.json()["errors"][0]["field"] == "roles[0]"
    no_agency = client.post(
        "/api/v1/users", json={"agency": "NOPE", "name": "X", "roles": ["admin"]}, headers=admin.headers
    )
    assert no_agency.status_code == 422 and no_agency.json()["errors"][0]["field"] == "agency"


def test_revoked_key_is_401_at_once_and_audited(
    client: TestClient, admin: User, booking: User, session: Session
) -> None:
    assert client.get("/api/v1/agencies", headers=booking.headers).status_code == 200
    revoked = client.delete(f"/api/v1/users/{booking.id}/api-key", headers=admin.headers)
    assert revoked.status_code == 204
    after = client.get("/api/v1/agencies", headers=booking.headers)
    assert after.status_code == 401
    assert after.headers["www-authenticate"] == "Bearer"
    assert ("admin.key_revoke", "ok") in audit_actions(session)
    assert audit_actions(session)[-1] == ("auth.failed", "refused")


def test_revoking_an_unknown_user_is_404(client: TestClient, admin: User) -> None:
    response = client.delete("/api/v1/users/00000000-0000-0000-0000-000000000000/api-key", headers=admin.headers)
    assert response.status_code == 404


def test_missing_and_unknown_keys_are_401(client: TestClient) -> None:
    assert client.get("/api/v1/agencies").status_code == 401
    response = client.get("/api/v1/agencies", headers={"Authorization": "Bearer pars_nonsense"})
    assert response.status_code == 401
    assert "pars_nonsense" not in response.text


# (method, path, body, roles allowed). Paths with {id} get a booked arrest's id.
ROLE_TABLE: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    ("POST", "/api/v1/agencies", {"code": "NEWAG", "name": "New", "kind": "city"}, {"admin"}),
    ("POST", "/api/v1/users", {"agency": "PPD", "name": "N", "roles": ["booking"]}, {"admin"}),
    ("GET", "/api/v1/agencies", None, {"admin", "booking", "charging", "magistrate", "governance", "oversight", "partner"}),
    ("POST", "/api/v1/arrests", "BOOKING", {"booking"}),  # type: ignore[list-item]
    ("GET", "/api/v1/arrests/{id}", None, {"booking", "charging", "magistrate", "governance", "oversight"}),
    ("GET", "/api/v1/arrests", None, {"booking", "charging", "magistrate", "governance", "oversight"}),
    ("POST", "/api/v1/arrests/{id}/charging-decision", {"decision": "declined"}, {"charging"}),
    ("POST", "/api/v1/arrests/{id}/seal", {"order_ref": "CP-51-MD-1-2026"}, {"magistrate"}),
    ("GET", "/api/v1/dockets/arraignment", None, {"magistrate"}),
    ("POST", "/api/v1/arrests/{id}/commitment", {"facility": "CFCF"}, {"booking"}),
    ("POST", "/api/v1/arrests/{id}/release", {"released_at": "2026-03-17T14:00:00-04:00", "reason": "x"}, {"booking"}),
    ("POST", "/api/v1/arrests/{id}/arraignment", {"held_at": "2026-03-17T14:00:00-04:00", "bail_type": "ROR", "next_hearing_at": "2026-03-20T09:00:00-04:00"}, {"magistrate"}),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ROLE_TABLE)
@pytest.mark.parametrize("role", [r.value for r in Role])
def test_role_table(
    client: TestClient,
    admin: User,
    make_user: Callable[..., User],
    book: Callable[..., dict[str, Any]],
    role: str,
    method: str,
    path: str,
    body: Any,
    allowed: set[str],
) -> None:
    """A role not listed for an action gets 403, and the refusal is on the audit trail; a listed
    role is never refused for its role (it may still be refused for the record's state)."""
    user = admin if role == "admin" else make_user(role, agency="FBI" if role == "partner" else "PPD")
    arrest = book()
    url = path.replace("{id}", arrest["id"])
    payload = arrest_body() if body == "BOOKING" else body
    response = client.request(method, url, json=payload, headers=user.headers)
    if role in allowed:
        assert response.status_code not in (401, 403), response.text
    else:
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"


def test_partner_without_agreement_is_refused_and_audited(
    client: TestClient, make_user: Callable[..., User], book: Callable[..., dict[str, Any]], session: Session
) -> None:
    partner = make_user(Role.PARTNER, agency="FBI")
    arrest = book()
    response = client.get(f"/api/v1/arrests/{arrest['id']}", headers=partner.headers)
    assert response.status_code == 403
    assert "agreement" in response.json()["detail"]
    assert "Peña" not in response.text
    assert audit_actions(session)[-1] == ("arrest.read", "refused")


def test_admin_cannot_read_records(client: TestClient, admin: User, book: Callable[..., dict[str, Any]]) -> None:
    arrest = book()
    response = client.get(f"/api/v1/arrests/{arrest['id']}", headers=admin.headers)
    assert response.status_code == 403
    assert "Peña" not in response.text
