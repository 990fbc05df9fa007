"""The demonstration world, scanned: ICE's fishing expedition is flagged with evidence and its
agreement is in breach; FBI's and ATF's case-bound work raises nothing. The transparency
report for the demo year shows it, and renders in a real browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.clock import FrozenClock
from pars.demo.world import build_world
from pars.oversight.commands import run_scan
from pars.settings import Settings
from tests.oversight.browser import render


def test_demo_ice_is_flagged_and_fbi_atf_are_not(
    db: Engine, settings: Settings, clock: FrozenClock, session: Session, client: TestClient, tmp_path: Path
) -> None:
    keys = build_world(settings, db, arrests=60, keys_file=tmp_path / "keys.json", seed=11,
                       console=Console(quiet=True), clock=clock)  # fmt: skip
    result = run_scan(settings, db, clock=clock)
    assert result.raised > 0 and result.caught_up
    oversight = {"Authorization": f"Bearer {keys['city.oversight']['api_key']}"}

    alerts = client.get("/api/v1/oversight/alerts", params={"limit": 100}, headers=oversight).json()["items"]
    assert {a["agency"] for a in alerts} == {"ICE"}, [
        (a["agency"], a["rule"], a["summary"]) for a in alerts if a["agency"] != "ICE"
    ]
    rules = {a["rule"] for a in alerts}
    assert {"no_case_reference", "outside_scope_probe"} <= rules
    # The smarter pattern (a fresh reference for every search of a common Hispanic name) is seen too.
    assert "case_reference_churn" in rules
    churn = [a for a in alerts if a["rule"] == "case_reference_churn"]
    for alert in churn:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.seq.in_(alert["evidence"]))).all()
        references = [e.details["case_reference"] for e in entries]
        assert all(r.startswith("ICE-ERO-PHI-") for r in references) and len(set(references)) >= 15
    assert any(a["severity"] == "high" for a in alerts)
    for alert in alerts:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.seq.in_(alert["evidence"]))).all()
        assert len(entries) == len(alert["evidence"]) and all(e.agency == "ICE" for e in entries)
        if alert["rule"] == "no_case_reference":
            assert all(e.details["case_reference"] is None for e in entries)
        if alert["rule"] == "outside_scope_probe":
            assert {e.details["reason"] for e in entries} == {"no_agreement_in_force"}

    governance = {"Authorization": f"Bearer {keys['city.governance']['api_key']}"}
    listed = {a["agency"]: a["id"] for a in client.get("/api/v1/agreements", headers=governance).json()["items"]}
    reports = {
        agency: client.get(f"/api/v1/reports/compliance/{agreement_id}", headers=oversight).json()
        for agency, agreement_id in listed.items()
    }
    assert reports["ICE"]["in_breach"] is True
    breach = next(b for b in reports["ICE"]["breaches"] if b["term"] == "purpose_limitation")
    assert breach["evidence"] and breach["alerts"]
    assert reports["ICE"]["refusals_by_reason"]["no_agreement_in_force"] > 0
    assert reports["ICE"]["purpose_limitation_evidence"]["alerts_by_rule"]["case_reference_churn"] == len(churn)
    assert set(breach["evidence_by_rule"]["case_reference_churn"]) <= set(breach["evidence"])
    # The sweep on the trail: names alone, each under its own invented reference; many refused as
    # ambiguous (several people share the name), some answered and read.
    swept = session.scalars(
        select(AuditEntry).where(AuditEntry.agency == "ICE", AuditEntry.action == "arrest.search")
    ).all()
    swept = [e for e in swept if (e.details.get("case_reference") or "").startswith("ICE-ERO-PHI-")]
    ambiguous = [e for e in swept if e.details.get("reason") == "ambiguous"]
    assert len(ambiguous) > len(swept) / 4 and all(e.details["persons"] >= 2 for e in ambiguous)
    assert any(e.outcome == "ok" and e.details["records"] for e in swept)
    purpose = reports["ICE"]["purpose_limitation_evidence"]
    assert purpose["ambiguous_refusals"] == reports["ICE"]["refusals_by_reason"]["ambiguous"] >= len(ambiguous)
    assert {e.seq for e in ambiguous} <= set(breach["indicators"]["ambiguous_refusals"])
    for partner in ("FBI", "ATF"):
        assert reports[partner]["in_breach"] is False and reports[partner]["breaches"] == [], partner
        assert reports[partner]["queries"] > 0 and reports[partner]["alerts"] == 0
    # FBI's task force: one registered case, many co-defendants, each looked up and explained.
    fbi = {"Authorization": f"Bearer {keys['fbi.agent']['api_key']}"}
    task_force = [c for c in client.get("/api/v1/cases", params={"limit": 100}, headers=fbi).json()["items"]
                  if c["reference"].endswith("-TF01")]  # fmt: skip
    assert len(task_force) == 1 and 25 <= task_force[0]["subjects"] <= 30
    lookups = session.scalars(
        select(AuditEntry).where(AuditEntry.agency == "FBI", AuditEntry.action == "arrest.search")
    ).all()
    under = [e for e in lookups if e.details.get("case_reference") == task_force[0]["reference"]]
    assert len(under) >= 20 and all(e.details["case"]["explained"] for e in under if e.details.get("records"))

    period = {"from": "2025-01-01", "to": "2026-12-31"}
    report: dict[str, Any] = client.get("/api/v1/reports/transparency", params=period, headers=oversight).json()
    totals = {a["agency"]: a["totals"] for a in report["agencies"]}
    assert totals["ICE"]["alerts"] == len(alerts) and totals["FBI"]["alerts"] == totals["ATF"]["alerts"] == 0
    assert totals["ICE"]["ambiguous_refusals"] == purpose["ambiguous_refusals"]
    assert totals["FBI"]["ambiguous_refusals"] == 0 and set(totals["FBI"]["alerts_by_rule"].values()) == {0}
    assert totals["ICE"]["records_disclosed"] > 0 and totals["FBI"]["records_disclosed"] > 0
    assert report["disparate_impact"] and sum(r["arrests"] for r in report["disparate_impact"]) == 60

    page = client.get("/api/v1/reports/transparency", params={**period, "format": "html"}, headers=oversight)
    shown = render(page.text, tmp_path / "transparency.png")
    assert shown.png_bytes > 20_000 and shown.ink_pixels > 50_000 and shown.pdf_bytes > 10_000
    assert shown.requests == []
    assert "Disparate impact" in shown.text and "no case reference" in shown.text and shown.charts >= 3
