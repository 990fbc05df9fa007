"""`pars demo`: the city side of the demonstration world, built through the real services."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.auth.models import Agency
from pars.clock import FrozenClock
from pars.demo.world import USERS, build_world
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
    for entry in keys.values():
        assert {"user_id", "name", "agency", "roles", "api_key", "password"} <= set(entry)

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
    assert session.scalar(select(func.count()).select_from(Arrest)) == 6
    header = {"Authorization": f"Bearer {second['ppd.booking']['api_key']}"}
    assert client.get("/api/v1/agencies", headers=header).status_code == 200
