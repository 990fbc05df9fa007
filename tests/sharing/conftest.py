"""Fixtures for the sharing tests: stakeholders' governance users, partners, and agreements
approved through the API."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pars.permissions import Role
from tests.conftest import User, arrest_body

TERMS: dict[str, Any] = {
    "agency": "FBI",
    "title": "FBI Philadelphia arrest data sharing",
    "document_ref": "MOU-2026-FBI-01",
    "effective_from": "2026-01-01T00:00:00-05:00",
    "expires_at": "2026-09-01T00:00:00-04:00",
    "purposes": ["criminal_investigation", "fugitive_apprehension"],
    "channels": ["query", "feed"],
    "fields": ["person.name", "person.dob", "person.identifiers", "arrest.arrested_at", "charges", "custody"],
    "scope": {"grades": ["F1", "F2", "F3", "M1", "M2"], "titles": [18], "sections": None, "statuses": None},
    "require_case_reference": True,
    "daily_query_limit": 500,
}


@pytest.fixture
def governors(make_user: Callable[..., User]) -> dict[str, User]:
    """Governance users of the three stakeholders and of a non-stakeholder city agency."""
    return {code: make_user(Role.GOVERNANCE, agency=code) for code in ("DAO", "FJD", "CITY", "PPD")}


@pytest.fixture
def fbi(make_user: Callable[..., User]) -> User:
    return make_user(Role.PARTNER, agency="FBI")


@pytest.fixture
def propose(client: TestClient, governors: dict[str, User], fbi: User) -> Callable[..., dict[str, Any]]:
    def do(**changes: Any) -> dict[str, Any]:
        response = client.post("/api/v1/agreements", json={**TERMS, **changes}, headers=governors["CITY"].headers)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    return do


@pytest.fixture
def approve(client: TestClient, governors: dict[str, User]) -> Callable[[str], dict[str, Any]]:
    """DAO and FJD vote yes on the newest proposed version."""

    def do(agreement_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for code in ("DAO", "FJD"):
            response = client.post(
                f"/api/v1/agreements/{agreement_id}/votes", json={"vote": "yes"}, headers=governors[code].headers
            )
            assert response.status_code == 200, response.text
            body = response.json()
        return body

    return do


@pytest.fixture
def agreement(
    fbi: User, propose: Callable[..., dict[str, Any]], approve: Callable[[str], dict[str, Any]]
) -> Callable[..., dict[str, Any]]:
    """An agreement for FBI (by default), proposed and approved."""

    def do(**changes: Any) -> dict[str, Any]:
        return approve(propose(**changes)["id"])

    return do


def partner_headers(
    user: User, purpose: str = "criminal_investigation", case: str | None = "FBI-PH-2026-0042"
) -> dict[str, str]:
    headers = {**user.headers, "PARS-Purpose": purpose}
    if case is not None:
        headers["PARS-Case-Reference"] = case
    return headers


MARK = "ZZMARK"  # in every field a partner must not receive (tests/sharing/test_no_other_path.py)


def marked_booking() -> dict[str, Any]:
    """A booking whose every field outside the name, the arrest time and the charges holds `MARK`
    (and an SSN): whatever reaches a partner beyond those came past the gate."""
    body: dict[str, Any] = copy.deepcopy(arrest_body(charges=[{"statute": "18 § 6106 §§ A1", "grade": "F3"}]))
    person = body["person"]
    person["aliases"] = [{"first": f"{MARK}alias", "last": f"{MARK}alias"}]
    person["sex"], person["race"], person["ethnicity"] = f"{MARK}sex", f"{MARK}race", f"{MARK}eth"
    person["place_of_birth"], person["citizenship"] = f"{MARK}pob", f"{MARK}cit"
    person["address"] = {"street": f"{MARK}street", "city": f"{MARK}city", "state": "PA", "zip": "19134"}
    person["phone"], person["ssn"] = f"{MARK}phone", "987-65-4321"
    person["identifiers"] = {"sid": f"{MARK}sid", "fbi_number": f"{MARK}fbi"}
    body["arrest"]["location"] = f"{MARK}location"
    body["arrest"]["incident_number"] = f"{MARK}dc"
    body["arrest"]["arresting_officer"] = f"{MARK}badge"
    body["narrative"] = f"{MARK}narrative"
    body["victims"] = [{"name": {"first": f"{MARK}victim", "last": f"{MARK}victim"}, "phone": f"{MARK}vphone"}]
    body["witnesses"] = [{"name": {"first": f"{MARK}witness", "last": f"{MARK}witness"}}]
    return body
