"""The demonstration world, scanned: ICE's fishing expedition, and its smarter sweep of common
Hispanic names under invented case references, are flagged with evidence and its agreement is in
breach; FBI's registered case work (a task force of many co-defendants included) and ATF's
searches by tracking number raise nothing. The transparency report for the demo year shows it,
and renders in a real browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.auth.models import Agency
from pars.clock import FrozenClock
from pars.demo.world import build_world
from pars.oversight.commands import run_scan
from pars.settings import Settings
from pars.sharing.models import RegisteredCase
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
    assert {a["agency"] for a in alerts} == {"ICE"}
    rules = {a["rule"] for a in alerts}
    assert {"no_case_reference", "outside_scope_probe", "refused_sweep", "case_reference_churn"} <= rules
    assert any(a["severity"] == "high" for a in alerts)
    for alert in alerts:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.seq.in_(alert["evidence"]))).all()
        assert len(entries) == len(alert["evidence"]) and all(e.agency == "ICE" for e in entries)
        if alert["rule"] == "no_case_reference":
            assert all(e.details["case_reference"] is None for e in entries)
        if alert["rule"] == "outside_scope_probe":
            assert {e.details["reason"] for e in entries} == {"no_agreement_in_force"}
        if alert["rule"] == "refused_sweep":  # searches that named no one person
            assert all(e.action == "arrest.search" for e in entries)
            assert all(e.details.get("reason") in ("ambiguous", "search_too_broad") or not e.details.get("records")
                       for e in entries)  # fmt: skip
        if alert["rule"] == "case_reference_churn":  # the smarter sweep: a fresh reference per search
            references = [e.details["case_reference"] for e in entries]
            assert len(set(references)) >= 15 and all(r.startswith("ICE-ERO-") for r in references)
            assert all(not (e.details.get("case") or {}).get("explained") for e in entries)

    # The smarter sweep on the trail: names only, each under its own invented reference; most
    # refused as ambiguous (several people share the name), some answered and read.
    ice_entries = session.scalars(select(AuditEntry).where(AuditEntry.agency == "ICE")).all()
    swept = [e for e in ice_entries if (e.details.get("case_reference") or "").startswith("ICE-ERO-")]
    searches = [e for e in swept if e.action == "arrest.search"]
    assert len(searches) >= 90 and len({e.details["case_reference"] for e in searches}) == len(searches)
    ambiguous = [e for e in searches if e.details.get("reason") == "ambiguous"]
    assert len(ambiguous) > len(searches) / 3 and all(e.details["persons"] >= 2 for e in ambiguous)
    assert all(sorted(e.details["parameters"]) == ["first_name", "last_name"] for e in searches)
    assert any(e.outcome == "ok" and e.details["records"] for e in searches)
    assert any(e.action == "arrest.read" for e in swept)

    # FBI's task force: 25-30 co-defendants of one registered case, looked up in one day, explained.
    fbi_entries = session.scalars(select(AuditEntry).where(AuditEntry.agency == "FBI")).all()
    task_force = [e for e in fbi_entries if "-TF-" in (e.details.get("case_reference") or "")]
    searched = [e for e in task_force if e.action == "arrest.search"]
    assert 25 <= len(searched) <= 30 and all(e.outcome == "ok" and e.details["records"] for e in searched)
    assert len({e.at.astimezone(settings.zone).date() for e in task_force}) == 1
    assert {e.details["case"]["subjects"] for e in searched} == {len(searched)}
    assert all(e.details["case"]["explained"] for e in task_force)
    # Every FBI lookup that disclosed someone was under a registered case naming that person.
    answered = [e for e in fbi_entries if e.action.startswith("arrest.") and e.outcome == "ok" and e.details["records"]]
    assert answered and all(e.details["case"] == {**e.details["case"], "registered": True, "explained": True}
                            for e in answered)  # fmt: skip
    registered = session.scalar(
        select(func.count()).select_from(RegisteredCase).join(Agency).where(Agency.code == "FBI")
    )
    assert registered and registered >= len({e.details["case_reference"] for e in answered})

    governance = {"Authorization": f"Bearer {keys['city.governance']['api_key']}"}
    listed = {a["agency"]: a["id"] for a in client.get("/api/v1/agreements", headers=governance).json()["items"]}
    reports = {
        agency: client.get(f"/api/v1/reports/compliance/{agreement_id}", headers=oversight).json()
        for agency, agreement_id in listed.items()
    }
    assert reports["ICE"]["in_breach"] is True
    breach = next(b for b in reports["ICE"]["breaches"] if b["term"] == "purpose_limitation")
    assert breach["evidence"] and breach["alerts"]
    assert {"refused_sweep", "case_reference_churn"} <= set(breach["evidence_by_rule"])
    assert set(breach["evidence_by_rule"]["case_reference_churn"]) <= set(breach["evidence"])
    assert reports["ICE"]["refusals_by_reason"]["no_agreement_in_force"] > 0
    purpose = reports["ICE"]["purpose_limitation_evidence"]
    assert purpose["ambiguous_refusals"] == reports["ICE"]["refusals_by_reason"]["ambiguous"] >= len(ambiguous)
    assert set(breach["indicators"]["ambiguous_refusals"]) >= {e.seq for e in ambiguous}
    assert purpose["unexplained_lookups"] > 0 and purpose["alerts_by_rule"]["case_reference_churn"] > 0
    for partner in ("FBI", "ATF"):
        assert reports[partner]["in_breach"] is False and reports[partner]["breaches"] == [], partner
        assert reports[partner]["queries"] > 0 and reports[partner]["alerts"] == 0

    period = {"from": "2025-01-01", "to": "2026-12-31"}
    report: dict[str, Any] = client.get("/api/v1/reports/transparency", params=period, headers=oversight).json()
    totals = {a["agency"]: a["totals"] for a in report["agencies"]}
    assert totals["ICE"]["alerts"] == len(alerts) and totals["FBI"]["alerts"] == totals["ATF"]["alerts"] == 0
    assert totals["ICE"]["ambiguous_refusals"] == purpose["ambiguous_refusals"]
    assert totals["ICE"]["alerts_by_rule"]["refused_sweep"] == sum(a["rule"] == "refused_sweep" for a in alerts)
    assert totals["FBI"]["ambiguous_refusals"] == 0 and set(totals["FBI"]["alerts_by_rule"].values()) == {0}
    assert totals["ICE"]["records_disclosed"] > 0 and totals["FBI"]["records_disclosed"] > 0
    assert report["disparate_impact"] and sum(r["arrests"] for r in report["disparate_impact"]) == 60

    page = client.get("/api/v1/reports/transparency", params={**period, "format": "html"}, headers=oversight)
    shown = render(page.text, tmp_path / "transparency.png")
    assert shown.png_bytes > 20_000 and shown.ink_pixels > 50_000 and shown.pdf_bytes > 10_000
    assert shown.requests == []
    assert "Disparate impact" in shown.text and "no_case_reference" in shown.text and shown.charts >= 3
