"""The evidence of purpose limitation in the reports (issue 12, part 5): searches refused as
ambiguous, references that name no registered case, lookups their case does not explain, and
the alerts by rule, counted in the compliance report and, per month, in the transparency report.
Every request goes through the real gate over HTTP."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from pars.clock import FrozenClock
from pars.permissions import Role
from tests.conftest import User, arrest_body
from tests.sharing.conftest import agreement, approve, fbi, governors, partner_headers, propose  # noqa: F401

MORNING = datetime.fromisoformat("2026-03-18T10:00:00-04:00")


def test_refusals_and_unexplained_lookups_are_evidence_of_purpose_limitation(
    client: TestClient, clock: FrozenClock, make_user: Callable[..., User], book: Callable[..., dict[str, Any]],
    agreement: Callable[..., dict[str, Any]], fbi: User,  # noqa: F811
) -> None:  # fmt: skip
    terms = agreement(require_registered_case=True)
    person = arrest_body()["person"]
    subject = {**person, "name": {"first": "Rosa", "last": "Ortiz"}, "dob": "1990-04-02"}
    stranger = {**person, "name": {"first": "Luis", "last": "Vega"}, "dob": "1985-07-19"}
    namesakes = [
        {**person, "name": {"first": "Jose", "last": "Cruz"}, "dob": dob} for dob in ("1980-01-01", "1991-02-02")
    ]
    for body in (subject, stranger, *namesakes):
        book(person=body)
    clock.set(MORNING)
    case = {"reference": "FBI-PH-2026-0042", "title": "Robbery series",
            "subjects": [{"last_name": "Ortiz", "first_name": "Rosa", "dob": "1990-04-02"}]}  # fmt: skip
    assert client.post("/api/v1/cases", json=case, headers=fbi.headers).status_code == 201

    def search(params: dict[str, str], reference: str = "FBI-PH-2026-0042") -> Any:
        return client.get("/api/v1/arrests", params=params, headers=partner_headers(fbi, case=reference))

    explained = search({"last_name": "Ortiz", "first_name": "Rosa"})
    unexplained = search({"last_name": "Vega", "dob": "1985-07-19"})
    assert explained.status_code == unexplained.status_code == 200
    assert len(explained.json()["items"]) == len(unexplained.json()["items"]) == 1
    ambiguous = search({"last_name": "Cruz", "first_name": "Jose"})
    assert ambiguous.status_code == 403 and ambiguous.json()["reason"] == "ambiguous"
    unregistered = search({"last_name": "Ortiz", "first_name": "Rosa"}, reference="FBI-INVENTED-1")
    assert unregistered.status_code == 403 and unregistered.json()["reason"] == "unregistered_case"

    oversight = make_user(Role.OVERSIGHT, agency="CITY").headers
    report = client.get(f"/api/v1/reports/compliance/{terms['id']}", headers=oversight).json()
    assert report["queries"] == 4 and report["refusals"] == 2
    assert report["refusals_by_reason"] == {"ambiguous": 1, "unregistered_case": 1}
    evidence = report["purpose_limitation_evidence"]
    assert evidence["ambiguous_refusals"] == evidence["unregistered_case_refusals"] == 1
    assert evidence["unexplained_lookups"] == 1 and evidence["too_broad_refusals"] == 0
    assert report["terms"][0]["require_registered_case"] is True
    # The gate refused what the terms forbid, so no term was broken by a disclosure.
    assert report["breaches"] == [] and report["in_breach"] is False

    period = {"from": "2026-03-01", "to": "2026-03-31"}
    transparency = client.get("/api/v1/reports/transparency", params=period, headers=oversight).json()
    month = next(a for a in transparency["agencies"] if a["agency"] == "FBI")["months"][0]
    assert month["month"] == "2026-03" and month["queries"] == 4 and month["refused"] == 2
    assert month["ambiguous_refusals"] == 1
    assert month["refused_by_reason"] == {"ambiguous": 1, "unregistered_case": 1}
    table = client.get("/api/v1/reports/transparency", params={**period, "format": "csv"}, headers=oversight)
    row = next(r for r in csv.DictReader(io.StringIO(table.text)) if r["agency"] == "FBI")
    assert row["ambiguous_refusals"] == "1" and row["refused:unregistered_case"] == "1"
    page = client.get("/api/v1/reports/transparency", params={**period, "format": "html"}, headers=oversight)
    assert "refused: name matched several people" in page.text and "<th>Ambiguous</th>" in page.text
