"""The oversight API over HTTP, on a trail made by partners going through the real gate: ICE
sweeps names at night without a case and probes by place of birth; FBI works its cases."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.clock import FrozenClock
from pars.oversight.scan import ScanResult
from pars.permissions import Role
from tests.conftest import User, arrest_body
from tests.sharing.conftest import agreement, approve, fbi, governors, partner_headers, propose  # noqa: F401

NIGHT = datetime.fromisoformat("2026-03-18T02:00:00-04:00")
MORNING = datetime.fromisoformat("2026-03-18T10:00:00-04:00")


@dataclass(frozen=True)
class World:
    oversight: User
    ice: User
    fbi: User
    ice_agreement: str
    fbi_agreement: str
    names: list[dict[str, Any]]


@pytest.fixture
def world(
    client: TestClient, clock: FrozenClock, make_user: Callable[..., User], book: Callable[..., dict[str, Any]],
    agreement: Callable[..., dict[str, Any]], fbi: User, run_scan: Callable[..., ScanResult],  # noqa: F811
) -> World:  # fmt: skip
    ice = make_user(Role.PARTNER, agency="ICE")
    ice_terms = agreement(agency="ICE", require_case_reference=False, daily_query_limit=None)
    fbi_terms = agreement()
    person = arrest_body()["person"]
    names = [book(person={**person, "name": {"first": f"Ana{i}", "last": f"Lopez{i}"}})["person"]["name"]
             for i in range(9)]  # fmt: skip
    clock.set(NIGHT)
    for i, name in enumerate(names):
        params = {"last_name": name["last"], "first_name": name["first"]}
        response = client.get("/api/v1/arrests", params=params, headers=partner_headers(ice, case=None))
        assert response.status_code == 200 and len(response.json()["items"]) == 1, response.text
        clock.advance(timedelta(minutes=1 + i))
    probe = client.get("/api/v1/arrests", params={"place_of_birth": "Mexico"}, headers=partner_headers(ice, case=None))
    assert probe.status_code == 403
    clock.set(MORNING)
    for i, name in enumerate(names):
        params = {"last_name": name["last"], "first_name": name["first"]}
        response = client.get("/api/v1/arrests", params=params, headers=partner_headers(fbi, case=f"FBI-{i}"))
        assert response.status_code == 200, response.text
    refused = client.get("/api/v1/arrests", params={"last_name": "Lopez1", "first_name": "Ana1"},
                         headers=partner_headers(fbi, case=None))  # fmt: skip
    assert refused.status_code == 403
    run_scan()
    oversight = make_user(Role.OVERSIGHT, agency="CITY")
    return World(oversight, ice, fbi, ice_terms["id"], fbi_terms["id"], names)


def test_alerts_are_listed_filtered_and_reviewed(client: TestClient, world: World, session: Session) -> None:
    headers = world.oversight.headers
    listed = client.get("/api/v1/oversight/alerts", headers=headers)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert sorted((a["rule"], a["agency"], a["severity"]) for a in items) == [
        ("broad_search", "ICE", "high"),
        ("no_case_reference", "ICE", "medium"),
        ("protected_field_probe", "ICE", "high"),
    ]
    assert {"id", "rule", "agency", "user", "severity", "window_start", "window_end", "summary", "evidence",
            "reviewed"} <= set(items[0])  # fmt: skip
    assert all(a["user"] == world.ice.id and not a["reviewed"] for a in items)
    # Evidence names real entries of the trail, made by ICE.
    for alert in items:
        agencies = session.scalars(select(AuditEntry.agency).where(AuditEntry.seq.in_(alert["evidence"]))).all()
        assert len(agencies) == len(alert["evidence"]) > 0 and set(agencies) == {"ICE"}

    def count(**params: str) -> int:
        response = client.get("/api/v1/oversight/alerts", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return len(response.json()["items"])

    assert count(rule="broad_search") == 1 and count(agency="FBI") == 0 and count(agency="ICE") == 3
    assert count(**{"from": "2026-03-18", "to": "2026-03-18"}) == 3 and count(**{"from": "2026-03-19"}) == 0
    assert count(severity="high") == 2 and count(reviewed="true") == 0
    assert client.get("/api/v1/oversight/alerts", params={"rule": "nonsense"}, headers=headers).status_code == 422
    for user in (world.ice, world.fbi):
        assert client.get("/api/v1/oversight/alerts", headers=user.headers).status_code == 403

    broad = next(a for a in items if a["rule"] == "broad_search")
    path = f"/api/v1/oversight/alerts/{broad['id']}/review"
    assert client.post(path, json={"note": "mine"}, headers=world.ice.headers).status_code == 403
    reviewed = client.post(path, json={"note": "Nightly sweep; referred to the DA.", "outcome": "confirmed"},
                           headers=headers)  # fmt: skip
    assert reviewed.status_code == 200, reviewed.text
    body = reviewed.json()
    assert body["reviewed"] and body["review"]["outcome"] == "confirmed" and body["review"]["by"] == world.oversight.id
    assert client.post(path, json={"note": "again"}, headers=headers).status_code == 409
    unknown = f"/api/v1/oversight/alerts/{uuid.uuid4()}/review"
    assert client.post(unknown, json={"note": "x"}, headers=headers).status_code == 404
    assert count(reviewed="true") == 1

    session.expire_all()
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.agency == "CITY")).all()
    assert actions.count("oversight.alert_review") == 1 and actions.count("oversight.alerts_read") >= 8


def test_compliance_report_answers_in_breach_with_evidence(client: TestClient, world: World, session: Session) -> None:
    headers = world.oversight.headers
    response = client.get(f"/api/v1/reports/compliance/{world.ice_agreement}", headers=headers)
    assert response.status_code == 200, response.text
    ice = response.json()
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.agency == "ICE", AuditEntry.action.in_(["arrest.search", "arrest.read"]))
    ).all()
    assert ice["queries"] == len(entries) == 10
    assert ice["refusals"] == 1 and ice["refusals_by_reason"] == {"protected_field_probe": 1}
    assert ice["disclosures"] == sum(len(e.details.get("records", [])) for e in entries) == 9
    assert ice["case_references"] == {"with": 0, "without": 9, "distinct": 0}
    assert [t["version"] for t in ice["terms"]] == [1] and ice["terms"][0]["require_case_reference"] is False
    assert ice["in_breach"] is True
    breaches = {b["term"]: b for b in ice["breaches"]}
    assert set(breaches) == {"protected_fields", "purpose_limitation"}
    probe = next(e.seq for e in entries if e.outcome == "refused")
    assert breaches["protected_fields"]["evidence"] == [probe]
    assert set(breaches["purpose_limitation"]["evidence"]) <= {e.seq for e in entries}
    assert len(breaches["purpose_limitation"]["alerts"]) == 2  # the two high-severity alerts, unreviewed

    # A reviewer who dismisses them lifts that breach; the probe stays a breach of its own.
    for alert_id in breaches["purpose_limitation"]["alerts"]:
        path = f"/api/v1/oversight/alerts/{alert_id}/review"
        assert client.post(path, json={"note": "checked", "outcome": "dismissed"}, headers=headers).status_code == 200
    again = client.get(f"/api/v1/reports/compliance/{world.ice_agreement}", headers=headers).json()
    assert [b["term"] for b in again["breaches"]] == ["protected_fields"] and again["in_breach"]

    fbi_report = client.get(f"/api/v1/reports/compliance/{world.fbi_agreement}", headers=headers).json()
    assert fbi_report["in_breach"] is False and fbi_report["breaches"] == []
    assert fbi_report["queries"] == 10 and fbi_report["refusals_by_reason"] == {"case_reference_required": 1}
    assert fbi_report["case_references"] == {"with": 9, "without": 0, "distinct": 9}

    narrow = client.get(f"/api/v1/reports/compliance/{world.ice_agreement}",
                        params={"from": "2026-03-19", "to": "2026-03-20"}, headers=headers).json()  # fmt: skip
    assert narrow["queries"] == 0 and narrow["in_breach"] is False
    assert client.get(f"/api/v1/reports/compliance/{uuid.uuid4()}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/reports/compliance/{world.ice_agreement}", headers=world.ice.headers).status_code == 403
    session.expire_all()
    reads = session.scalars(select(AuditEntry).where(AuditEntry.action == "oversight.report_read")).all()
    assert len(reads) == 4 and {e.details["report"] for e in reads} == {"compliance"}


def test_transparency_report_in_three_formats(client: TestClient, world: World) -> None:
    headers = world.oversight.headers
    period = {"from": "2026-01-01", "to": "2026-03-31"}
    body = client.get("/api/v1/reports/transparency", params=period, headers=headers)
    assert body.status_code == 200, body.text
    report = body.json()
    assert report["period"] == {"from": "2026-01-01T00:00:00-05:00", "to": "2026-04-01T00:00:00-04:00"}
    totals = {a["agency"]: a["totals"] for a in report["agencies"]}
    assert totals["ICE"]["queries"] == 10 and totals["ICE"]["refused"] == 1 and totals["ICE"]["alerts"] == 3
    assert totals["ICE"]["records_disclosed"] == 9 and totals["ICE"]["persons_disclosed"] == 9
    assert totals["FBI"]["queries"] == 10 and totals["FBI"]["alerts"] == 0
    assert [m["month"] for m in report["agencies"][0]["months"]] == ["2026-01", "2026-02", "2026-03"]
    (under,) = next(a for a in report["agencies"] if a["agency"] == "ICE")["agreements"]
    assert (under["agreement_id"], under["version"], under["records_disclosed"]) == (world.ice_agreement, 1, 9)
    rows = report["disparate_impact"]
    assert rows == [{"race": "White", "ethnicity": "Hispanic or Latino", "arrests": 9, "arrest_share": 1.0,
                     "persons_disclosed": 9, "disclosure_share": 1.0, "ratio": None, "suppressed": True,
                     "published": {"arrests": "fewer than 11", "persons_disclosed": "fewer than 11"}}]  # fmt: skip

    as_csv = client.get("/api/v1/reports/transparency", params={**period, "format": "csv"}, headers=headers)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(table) == 2 * 3 and {r["agency"] for r in table} == {"FBI", "ICE"}

    page = client.get("/api/v1/reports/transparency", params={**period, "format": "html"}, headers=headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert "<svg" in html and "<script" not in html and "Disparate impact" in html
    assert "broad search" in html and "ICE" in html
    assert client.get("/api/v1/reports/transparency", params={"format": "pdf"}, headers=headers).status_code == 422
    assert client.get("/api/v1/reports/transparency", headers=world.fbi.headers).status_code == 403


def test_searches_name_their_parameters_and_a_keyed_subject_not_the_values(
    client: TestClient, world: World, session: Session
) -> None:
    searches = session.scalars(
        select(AuditEntry).where(AuditEntry.agency == "ICE", AuditEntry.action == "arrest.search",
                                 AuditEntry.outcome == "ok").order_by(AuditEntry.seq)
    ).all()  # fmt: skip
    assert len(searches) == 9
    assert all(e.details["parameters"] == ["first_name", "last_name"] for e in searches)
    subjects = [e.details["subject"] for e in searches]
    assert len(set(subjects)) == 9 and all(len(s) == 32 for s in subjects)
    assert not any("Lopez" in str(e.details) or "Ana" in str(e.details) for e in searches)
    # The same person searched again, written differently, and found or not: the same subject.
    again = client.get("/api/v1/arrests", params={"last_name": " LÓPEZ0 ", "first_name": "ana0"},
                       headers=partner_headers(world.ice, case=None))  # fmt: skip
    assert again.status_code == 200
    session.expire_all()
    last = session.scalars(select(AuditEntry).where(AuditEntry.action == "arrest.search").order_by(
        AuditEntry.seq.desc()).limit(1)).one()  # fmt: skip
    assert last.details["subject"] == subjects[0]
