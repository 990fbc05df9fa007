"""CONTRACT §5 search for city users: parameters, name matching, cursor pages, probes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.permissions import Role
from tests.conftest import User, arrest_body

Book = Callable[..., dict[str, Any]]


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["items"]]


def _booking_with(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(arrest_body())
    for path, value in changes.items():
        part, _, member = path.partition("__")
        body[part][member] = value
    return body


@pytest.fixture
def three(book: Book, walk: Callable[..., dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Three arrests of different people, districts and times."""
    return {
        "pena": walk(
            "charges_approved",
            **_booking_with(arrest__arrested_at="2026-03-15T10:00:00-04:00", arrest__incident_number="2624000001"),
        ),
        "nguyen": book(
            **_booking_with(
                person__name={"first": "Thị", "last": "Nguyễn"},
                person__dob="1985-01-02",
                person__identifiers={"sid": "7777777-1"},
                arrest__district="3",
                arrest__arrested_at="2026-03-16T10:00:00-04:00",
            )
        ),
        "wang": book(
            **_booking_with(
                person__name={"first": "伟", "last": "王"},
                person__dob="1979-09-09",
                arrest__district="6",
                arrest__arrested_at="2026-03-17T10:00:00-04:00",
            )
        ),
    }


def test_all_records_newest_first(client: TestClient, booking: User, three: dict[str, dict[str, Any]]) -> None:
    ids = _ids(client.get("/api/v1/arrests", headers=booking.headers))
    assert ids == [three["wang"]["id"], three["nguyen"]["id"], three["pena"]["id"]]


@pytest.mark.parametrize(
    ("params", "who"),
    [
        ({"last_name": "NGUYEN"}, ["nguyen"]),
        ({"last_name": "nguyễn", "first_name": "thi"}, ["nguyen"]),
        ({"last_name": "王"}, ["wang"]),
        ({"dob": "1985-01-02"}, ["nguyen"]),
        ({"sid": "7777777-1"}, ["nguyen"]),
        ({"district": "6"}, ["wang"]),
        ({"incident_number": "2624000001"}, ["pena"]),
        ({"status": "charges_approved"}, ["pena"]),
        ({"arrested_from": "2026-03-16T00:00:00-04:00", "arrested_to": "2026-03-17T00:00:00-04:00"}, ["nguyen"]),
        ({"last_name": "Smith"}, []),
    ],
)
def test_each_parameter_filters(
    client: TestClient, booking: User, three: dict[str, dict[str, Any]], params: dict[str, str], who: list[str]
) -> None:
    assert _ids(client.get("/api/v1/arrests", params=params, headers=booking.headers)) == [three[w]["id"] for w in who]


def test_identifiers_found_by_their_own_parameters(
    client: TestClient, booking: User, three: dict[str, dict[str, Any]]
) -> None:
    pena = three["pena"]
    by_tracking = client.get(
        "/api/v1/arrests", params={"tracking_number": pena["tracking_number"]}, headers=booking.headers
    )
    compact = pena["tracking_number"].replace(" ", "").replace("-", "")
    by_compact = client.get("/api/v1/arrests", params={"tracking_number": compact}, headers=booking.headers)
    by_ppn = client.get(
        "/api/v1/arrests", params={"ppn": pena["person"]["identifiers"]["ppn"]}, headers=booking.headers
    )
    docket = pena["charging"]["docket_number"]
    by_docket = client.get("/api/v1/arrests", params={"docket_number": docket}, headers=booking.headers)
    for response in (by_tracking, by_compact, by_ppn, by_docket):
        assert _ids(response) == [pena["id"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"dob": "02/01/1985"}, "dob"),
        ({"arrested_from": "2026-03-16T00:00:00"}, "arrested_from"),
        ({"tracking_number": "N 000001-9"}, "tracking_number"),
        ({"status": "escaped"}, "status"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_parameter_values_are_422(client: TestClient, booking: User, params: dict[str, str], field: str) -> None:
    response = client.get("/api/v1/arrests", params=params, headers=booking.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


def test_pages_with_a_cursor_cover_everything_once(client: TestClient, booking: User, book: Book) -> None:
    ids = {book()["id"] for _ in range(7)}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/arrests", params=params, headers=booking.headers).json()
        assert len(page["items"]) <= 3
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and set(seen) == ids


@pytest.mark.parametrize(("limit", "message"), [("101", "100"), ("0", "1")])
def test_a_limit_outside_1_to_100_is_422(
    client: TestClient, booking: User, book: Book, limit: str, message: str
) -> None:
    """CONTRACT §2: at most 100. A larger page is refused, not silently shortened."""
    book()
    response = client.get("/api/v1/arrests", params={"limit": limit}, headers=booking.headers)
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["field"] == "limit" and message in error["message"]


def test_a_forged_cursor_is_400(client: TestClient, booking: User) -> None:
    response = client.get("/api/v1/arrests", params={"cursor": "not-a-cursor"}, headers=booking.headers)
    assert response.status_code == 400


@pytest.mark.parametrize("parameter", ["place_of_birth", "citizenship", "ssn", "race", "ethnicity", "sex"])
def test_searching_by_a_record_field_is_a_403_probe_for_everyone(
    client: TestClient, make_user: Callable[..., User], session: Session, parameter: str
) -> None:
    for user in (make_user(Role.BOOKING), make_user(Role.OVERSIGHT, agency="CITY")):
        response = client.get("/api/v1/arrests", params={parameter: "Mexico", "last_name": "x"}, headers=user.headers)
        assert response.status_code == 403
        assert "Mexico" not in response.text
    probes = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "arrest.search", AuditEntry.outcome == "refused")
    ).all()
    assert len(probes) == 2
    assert probes[0].details == {"reason": "protected_field_probe", "parameters": [parameter]}
    assert probes[0].agency == "PPD" and probes[1].agency == "CITY"
    assert "Mexico" not in str([p.details for p in probes])


def test_search_is_audited_without_the_values_searched(client: TestClient, booking: User, session: Session) -> None:
    client.get("/api/v1/arrests", params={"last_name": "Nguyễn", "dob": "1985-01-02"}, headers=booking.headers)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "arrest.search")).one()
    assert entry.details == {"parameters": ["dob", "last_name"], "results": 0}
    assert entry.outcome == "ok" and entry.agency == "PPD"


def test_partner_search_is_refused_without_an_agreement(
    client: TestClient, make_user: Callable[..., User], book: Book
) -> None:
    book()
    partner = make_user(Role.PARTNER, agency="FBI")
    response = client.get("/api/v1/arrests", params={"last_name": "Peña", "dob": "1990-05-04"}, headers=partner.headers)
    assert response.status_code == 403
    assert "Peña" not in response.text
