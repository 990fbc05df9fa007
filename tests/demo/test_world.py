"""`pars demo`: the city side of the demonstration world, built through the real services."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.auth.models import Agency
from pars.auth.signin import check_password
from pars.clock import FrozenClock
from pars.demo.world import USERS, build_world
from pars.errors import Unauthenticated
from pars.records.models import Arrest
from pars.settings import Settings


def test_demo_world(
    db: Engine, settings: Settings, clock: FrozenClock, session: Session, client: TestClient, tmp_path: Path
) -> None:
    keys_file = tmp_path / "demo-keys.json"
    build_world(settings, db, arrests=60, keys_file=keys_file, seed=7, console=Console(quiet=True), clock=clock)

    codes = set(session.scalars(select(Agency.code)))
    assert {"PPD", "DAO", "FJD", "CITY", "DEFENDER", "FBI", "ATF", "ICE"} <= codes
    stakeholders = set(session.scalars(select(Agency.code).where(Agency.stakeholder)))
    assert stakeholders == {"DAO", "FJD", "CITY"}

    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    keys = json.loads(keys_file.read_text())
    assert set(keys) == set(USERS)
    assert {r for entry in keys.values() for r in entry["roles"]} >= {
        "booking",
        "charging",
        "magistrate",
        "governance",
        "oversight",
        "partner",
    }
    for handle, entry in keys.items():
        assert {"user_id", "username", "name", "agency", "roles", "api_key", "password"} <= set(entry)
        assert entry["username"] == handle and len(entry["password"]) >= 12
    # Every demo user can sign in to the pages with the password written for it.
    signed = {check_password(session, handle, entry["password"]).user.name for handle, entry in keys.items()}
    assert signed == {name for _, name, _ in USERS.values()}

    assert session.scalar(select(func.count()).select_from(Arrest)) == 60
    statuses = set(session.scalars(select(Arrest.status)))
    assert "released" in statuses and len(statuses) >= 3
    # The history is in time order: the arrests' trail reads oldest first, all in the past.
    times = list(
        session.scalars(select(AuditEntry.at).where(AuditEntry.action.like("arrest.%")).order_by(AuditEntry.seq))
    )
    assert times == sorted(times) and times[-1] <= clock.now()

    booking = {"Authorization": f"Bearer {keys['ppd.booking']['api_key']}"}
    page = client.get("/api/v1/arrests?limit=100", headers=booking).json()
    assert len(page["items"]) == 60
    assert all(r["arrest"]["arresting_agency"] == "PPD" for r in page["items"])
    magistrate = {"Authorization": f"Bearer {keys['fjd.magistrate']['api_key']}"}
    assert client.get("/api/v1/dockets/arraignment", headers=magistrate).status_code == 200


def test_a_second_run_reuses_principals_and_issues_new_keys(
    db: Engine, settings: Settings, clock: FrozenClock, session: Session, client: TestClient, tmp_path: Path
) -> None:
    keys_file = tmp_path / "demo-keys.json"
    quiet = Console(quiet=True)
    first = build_world(settings, db, arrests=3, keys_file=keys_file, seed=1, console=quiet, clock=clock)
    second = build_world(settings, db, arrests=3, keys_file=keys_file, seed=2, console=quiet, clock=clock)
    assert first["ppd.booking"]["user_id"] == second["ppd.booking"]["user_id"]
    assert first["ppd.booking"]["api_key"] != second["ppd.booking"]["api_key"]
    assert first["ppd.booking"]["password"] != second["ppd.booking"]["password"]
    check_password(session, "ppd.booking", second["ppd.booking"]["password"])
    with pytest.raises(Unauthenticated):
        check_password(session, "ppd.booking", first["ppd.booking"]["password"])
    assert session.scalar(select(func.count()).select_from(Arrest)) == 6
    header = {"Authorization": f"Bearer {second['ppd.booking']['api_key']}"}
    assert client.get("/api/v1/agencies", headers=header).status_code == 200


def test_demo_partner_side(
    db: Engine, settings: Settings, clock: FrozenClock, session: Session, client: TestClient, tmp_path: Path
) -> None:
    """FBI finds arrests under its agreement, ATF only firearms cases, ICE is refused since
    September 1, and the trail shows what each partner received."""
    keys_file = tmp_path / "demo-keys.json"
    keys = build_world(settings, db, arrests=80, keys_file=keys_file, seed=11, console=Console(quiet=True), clock=clock)
    governance = {"Authorization": f"Bearer {keys['city.governance']['api_key']}"}
    listed = {a["agency"]: a for a in client.get("/api/v1/agreements", headers=governance).json()["items"]}
    assert set(listed) == {"FBI", "ATF", "ICE"}
    assert listed["FBI"]["in_force"] and listed["ATF"]["in_force"] and not listed["ICE"]["in_force"]
    ice = listed["ICE"]["versions"][0]
    assert ice["status"] == "approved" and ice["expires_at"] == "2025-09-01T04:00:00+00:00"
    assert [(v["agency"], v["vote"]) for v in ice["votes"]] == [("CITY", "no"), ("DAO", "yes"), ("FJD", "yes")]
    assert listed["ATF"]["versions"][0]["scope"]["sections"] == ["6105", "6106", "6108", "6110.2", "907"]

    def partner(handle: str, purpose: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {keys[handle]['api_key']}",
            "PARS-Purpose": purpose,
            "PARS-Case-Reference": "T-1",
        }

    booking = {"Authorization": f"Bearer {keys['ppd.booking']['api_key']}"}
    records = client.get("/api/v1/arrests?limit=100", headers=booking).json()["items"]
    unsealed = [r for r in records if not r["sealed"]]
    guns = [
        r
        for r in unsealed
        if any(c["title"] == 18 and c["section"] in {"6105", "6106", "6108", "6110.2", "907"} for c in r["charges"])
    ]
    others = [r for r in unsealed if r not in guns]
    assert guns and others
    atf = partner("atf.agent", "firearms_investigation")
    found = client.get("/api/v1/arrests", params={"tracking_number": guns[0]["tracking_number"]}, headers=atf).json()
    assert [r["id"] for r in found["items"]] == [guns[0]["id"]]
    missed = client.get("/api/v1/arrests", params={"tracking_number": others[0]["tracking_number"]}, headers=atf).json()
    assert missed["items"] == []
    fbi = partner("fbi.agent", "criminal_investigation")
    assert client.get(f"/api/v1/arrests/{guns[0]['id']}", headers=fbi).status_code == 200
    refused = client.get(f"/api/v1/arrests/{guns[0]['id']}", headers=partner("ice.officer", "criminal_investigation"))
    assert refused.status_code == 403 and "no data-sharing agreement" in refused.json()["detail"]

    # One audit query tells what each partner received, and what it was refused.
    entries = session.scalars(select(AuditEntry).where(AuditEntry.agency.in_(["FBI", "ATF", "ICE"]))).all()
    ice_ok = [e for e in entries if e.agency == "ICE" and e.outcome == "ok" and e.action == "arrest.search"]
    ice_refused = [e for e in entries if e.agency == "ICE" and e.outcome == "refused"]
    # Nightly sweeps without a case, and in its last weeks office-hours sweeps of common Hispanic
    # names, each under a reference invented for it.
    nightly = [e for e in ice_ok if e.details["case_reference"] is None]
    invented = [e.details["case_reference"] for e in ice_ok if e.details["case_reference"] is not None]
    assert len(nightly) > 100 and invented and all(r.startswith("ICE-ERO-PHI-") for r in invented)
    assert len(set(invented)) == len(invented)
    assert all(e.at < datetime(2025, 9, 1, 4, tzinfo=UTC) for e in ice_ok)
    reasons = {e.details["reason"] for e in ice_refused}
    assert "no_agreement_in_force" in reasons and reasons <= {"no_agreement_in_force", "ambiguous"}
    assert all(e.at >= datetime(2025, 9, 1, 4, tzinfo=UTC) for e in ice_refused if e.details["reason"] != "ambiguous")
    fbi_ok = [e for e in entries if e.agency == "FBI" and e.outcome == "ok" and e.action.startswith("arrest.")]
    assert fbi_ok and all(e.details["case_reference"] for e in fbi_ok)
