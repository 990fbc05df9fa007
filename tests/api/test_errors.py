"""CONTRACT §3: every error is problem+json, names what was wrong and echoes nothing protected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pars.records.models import Arrest
from tests.conftest import User, arrest_body, audit_actions


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    return body


def test_malformed_json_is_400(client: TestClient, booking: User) -> None:
    response = client.post(
        "/api/v1/arrests", content=b'{"person": ', headers={**booking.headers, "Content-Type": "application/json"}
    )
    assert "JSON" in _problem(response, 400)["detail"]


def test_unknown_query_parameter_is_400(client: TestClient, booking: User) -> None:
    body = _problem(client.get("/api/v1/agencies?colour=red", headers=booking.headers), 400)
    assert "colour" in body["detail"]
    assert "colour" in _problem(client.get("/api/v1/arrests?colour=red", headers=booking.headers), 400)["detail"]


def test_unauthenticated_is_401(client: TestClient) -> None:
    _problem(client.get("/api/v1/arrests"), 401)


def test_wrong_role_is_403(client: TestClient, booking: User) -> None:
    _problem(client.get("/api/v1/dockets/arraignment", headers=booking.headers), 403)


def test_unknown_arrest_and_unknown_route_are_404(client: TestClient, booking: User) -> None:
    _problem(client.get("/api/v1/arrests/6f1c0a56-8a51-4f63-9a5b-1a2b3c4d5e6f", headers=booking.headers), 404)
    _problem(client.get("/api/v1/nothing-here", headers=booking.headers), 404)


def test_malformed_id_is_422_naming_the_parameter(client: TestClient, booking: User) -> None:
    body = _problem(client.get("/api/v1/arrests/not-a-uuid", headers=booking.headers), 422)
    assert body["errors"][0]["field"] == "arrest_id"


def test_step_the_state_does_not_allow_is_409(
    client: TestClient, booking: User, book: Callable[..., dict[str, Any]]
) -> None:
    arrest = book()
    response = client.post(
        f"/api/v1/arrests/{arrest['id']}/commitment", json={"facility": "CFCF"}, headers=booking.headers
    )
    assert "booked" in _problem(response, 409)["detail"]


def test_body_over_one_mebibyte_is_413_and_changes_nothing(client: TestClient, booking: User, session: Session) -> None:
    huge = arrest_body(narrative="x" * (1024 * 1024 + 10))
    _problem(client.post("/api/v1/arrests", json=huge, headers=booking.headers), 413)
    assert session.scalar(select(func.count()).select_from(Arrest)) == 0


def test_invalid_input_is_422_with_field_errors_and_no_echo_of_protected_values(
    client: TestClient, booking: User
) -> None:
    body = arrest_body()
    body["person"]["ssn"] = "SECRET-123-45"
    body["person"]["dob"] = "1899-12-31"
    response = client.post("/api/v1/arrests", json=body, headers=booking.headers)
    problem = _problem(response, 422)
    fields = {e["field"] for e in problem["errors"]}
    assert "person.ssn" in fields
    assert "SECRET-123-45" not in response.text


def test_validation_failure_is_not_audited_as_a_change(client: TestClient, booking: User, session: Session) -> None:
    before = audit_actions(session)
    client.post("/api/v1/arrests", json=arrest_body(charges=[]), headers=booking.headers)
    assert audit_actions(session) == before
