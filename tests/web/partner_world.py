"""Fixtures for the partner and oversight page tests: agreements made through the sharing
fixtures (the API, as governance users), arrests booked with fields outside any grant, and a
trail of partner activity the detectors flag. Test modules import what they use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pars.audit.chain import CheckpointPolicy
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.oversight.scan import scan
from pars.permissions import Role
from pars.settings import Settings
from tests.conftest import User, arrest_body
from tests.sharing.conftest import agreement, approve, fbi, governors, partner_headers, propose
from tests.web.conftest import WebUser

__all__ = ["agreement", "approve", "fbi", "governors", "propose"]

# Granted to the partner in these tests: no address, phone, narrative, identifiers or arrest details.
LIMITED_FIELDS = ["person.name", "person.dob", "charges", "custody"]
# Values booked outside that grant, which must appear nowhere on a partner's page.
HIDDEN = {
    "address": "3021 Kensington Ave",
    "narrative": "Officers responded to a report of a fight.",
    "phone": "215-555-0142",
    "place_of_birth": "San Juan, PR",
    "location": "Kensington Ave & E Allegheny Ave",
    "incident_number": "2624001234",
}
NIGHT = datetime.fromisoformat("2026-03-18T02:00:00-04:00")
MORNING = datetime.fromisoformat("2026-03-18T10:00:00-04:00")


@pytest.fixture
def fbi_web(web_user: Callable[..., WebUser], fbi: User) -> WebUser:
    """A partner user of FBI who signs in to the pages (after the `fbi` API user made the agency)."""
    return web_user(Role.PARTNER, agency="FBI")


@pytest.fixture
def limited(agreement: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """FBI's agreement in force, granting only LIMITED_FIELDS, a case reference required."""
    return agreement(fields=LIMITED_FIELDS)


@dataclass(frozen=True)
class World:
    """ICE swept names at night without a case and probed by place of birth; FBI worked cases."""

    ice: User
    fbi: User
    ice_agreement: str
    fbi_agreement: str
    records: list[dict[str, Any]]


@pytest.fixture
def world(
    client: TestClient,
    clock: FrozenClock,
    db: Engine,
    settings: Settings,
    make_user: Callable[..., User],
    book: Callable[..., dict[str, Any]],
    agreement: Callable[..., dict[str, Any]],
    fbi: User,
    policy: CheckpointPolicy,
) -> World:
    ice = make_user(Role.PARTNER, agency="ICE")
    ice_terms = agreement(agency="ICE", require_case_reference=False, daily_query_limit=None)
    fbi_terms = agreement()
    person = arrest_body()["person"]
    records = [book(person={**person, "name": {"first": f"Ana{i}", "last": f"Lopez{i}"}}) for i in range(9)]
    clock.set(NIGHT)
    for i, record in enumerate(records):
        name = record["person"]["name"]
        params = {"last_name": name["last"], "first_name": name["first"]}
        response = client.get("/api/v1/arrests", params=params, headers=partner_headers(ice, case=None))
        assert response.status_code == 200 and len(response.json()["items"]) == 1, response.text
        clock.advance(timedelta(minutes=1 + i))
    probe = client.get("/api/v1/arrests", params={"place_of_birth": "Mexico"}, headers=partner_headers(ice, case=None))
    assert probe.status_code == 403
    clock.set(MORNING)
    for i, record in enumerate(records[:3]):
        name = record["person"]["name"]
        params = {"last_name": name["last"], "first_name": name["first"]}
        response = client.get("/api/v1/arrests", params=params, headers=partner_headers(fbi, case=f"FBI-{i}"))
        assert response.status_code == 200, response.text
    scan(make_session_factory(db), clock, settings, policy=policy)
    return World(ice, fbi, ice_terms["id"], fbi_terms["id"], records)
