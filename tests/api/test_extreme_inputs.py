"""Inputs at the edges, found while fuzzing the API (tests/api/test_schemathesis.py): each used to
reach the database or the datetime arithmetic unchecked and end in a 500. Now each is a
documented 400 or 422 that names what was wrong."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pars.pagination import encode_cursor
from pars.permissions import Role
from tests.api.test_openapi import UNKNOWN_ID, Checked, _api_operations
from tests.conftest import User
from tests.sharing.conftest import TERMS

# Year 9999 late in the day west of Greenwich, or year 1 early east of it, is not a UTC instant.
LATE = "9999-12-31T23:59:59-12:00"
EARLY = "0001-01-01T00:00:00+14:00"


def _invalid(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}, response.text


@pytest.mark.parametrize(
    ("path", "parameter", "value"),
    [
        ("/api/v1/arrests", "arrested_from", LATE),
        ("/api/v1/arrests", "arrested_to", EARLY),
        ("/api/v1/audit", "to", "9999-12-31"),
        ("/api/v1/audit", "from", EARLY),
        ("/api/v1/oversight/alerts", "to", LATE),
        ("/api/v1/reports/transparency", "to", "9999-12-31"),
        ("/api/v1/reports/transparency", "from", "0001-01-01"),
    ],
)
def test_a_period_or_search_bound_beyond_the_calendar_is_422(
    client: TestClient, keys: dict[str, User], path: str, parameter: str, value: str
) -> None:
    _invalid(client.get(path, params={parameter: value}, headers=keys["city"].headers), parameter)


def test_a_time_beyond_the_calendar_in_a_body_is_422_and_changes_nothing(
    client: TestClient, keys: dict[str, User], make_user: Callable[..., User], walk: Callable[..., dict[str, Any]]
) -> None:
    city, fbi = keys["city"].headers, keys["partner"].headers
    governance = make_user(Role.GOVERNANCE, agency="CITY").headers
    _invalid(
        client.post("/api/v1/cases", json={"reference": "R-1", "title": "x", "opened_at": LATE}, headers=fbi),
        "opened_at",
    )
    _invalid(
        client.post("/api/v1/agreements", json={**TERMS, "effective_from": EARLY}, headers=governance), "effective_from"
    )
    agreement = client.post("/api/v1/agreements", json=TERMS, headers=governance).json()
    termination = {"effective_at": LATE, "reason": "ended"}
    response = client.post(f"/api/v1/agreements/{agreement['id']}/termination", json=termination, headers=governance)
    _invalid(response, "effective_at")
    arrest = walk("charges_approved")
    hearing = {"held_at": "2026-03-17T14:00:00-04:00", "bail_type": "ROR", "next_hearing_at": LATE}
    _invalid(client.post(f"/api/v1/arrests/{arrest['id']}/arraignment", json=hearing, headers=city), "next_hearing_at")
    assert client.get(f"/api/v1/arrests/{arrest['id']}", headers=city).json()["status"] == "charges_approved"
    assert client.get("/api/v1/cases", headers=fbi).json()["items"] == []


# Cursors a client could forge: well-formed base64 JSON, but no list this service returns.
FORGED_CURSORS = {
    "empty list": [],
    "NUL in a string": ["\u0000"],
    "integer over 64 bits": [10**30],
    "negative integer over 64 bits": [-(10**30)],
    "a float": [1.5],
    "an object": [{"seq": 1}],
    "NUL after a time": ["2026-01-01T00:00:00+00:00", "a\u0000"],
}


@pytest.mark.parametrize("forged", FORGED_CURSORS.values(), ids=FORGED_CURSORS.keys())
def test_a_forged_cursor_is_400_on_every_list_never_a_500(
    client: TestClient, document: dict[str, Any], keys: dict[str, User], forged: list[Any]
) -> None:
    """Found by schemathesis' reach: a cursor is decoded before its shape was checked, so `[]`
    broke the agencies list and a NUL or a huge integer reached the database (500)."""
    cursor = encode_cursor(forged)
    checked = Checked(client, document)
    lists = 0
    for method, path, _ in _api_operations(client):
        parameters = {p["name"] for p in document["paths"][path][method.lower()].get("parameters", [])}
        if "cursor" not in parameters:
            continue
        lists += 1
        params = {"cursor": cursor, **({"arrest_id": UNKNOWN_ID} if "arrest_id" in parameters else {})}
        statuses = {checked.send(method, path, params=params, headers=key.headers).status_code for key in keys.values()}
        assert statuses <= {400, 403, 404}, (path, statuses)
    assert lists >= 10
