"""Bookings and decisions at the same time, from several connections: numbers never repeat and
no step is applied twice (row locks on PostgreSQL, the write lock on SQLite)."""

from __future__ import annotations

import copy
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pars.actors import CityActor
from pars.audit.chain import CheckpointPolicy
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.errors import InvalidTransition
from pars.permissions import Role
from pars.records import intake, workflow
from pars.records.models import Arrest, Person
from pars.records.schemas import ArrestIn, ChargingDecisionIn
from pars.work import unit_of_work
from tests.conftest import arrest_body

CLERK = CityActor(user_id=uuid.uuid4(), agency_code="PPD", roles=frozenset({Role.BOOKING}))
CITY = ZoneInfo("America/New_York")
ADA = CityActor(user_id=uuid.uuid4(), agency_code="DAO", roles=frozenset({Role.CHARGING}))


def _body(index: int) -> ArrestIn:
    body: dict[str, Any] = copy.deepcopy(arrest_body())
    body["person"]["name"] = {"first": f"Person{index}", "last": "Concurrent"}
    return ArrestIn.model_validate(body)


def test_concurrent_bookings_get_distinct_numbers(
    db: Engine, clock: FrozenClock, session: Session, policy: CheckpointPolicy
) -> None:
    factory = make_session_factory(db)

    def book(index: int) -> str:
        with unit_of_work(factory, clock, policy=policy) as s:
            return intake.book_arrest(s, CLERK, _body(index)).tracking_number

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(book, range(40)))
    assert len(set(numbers)) == 40
    assert session.scalar(select(func.count()).select_from(Arrest)) == 40
    ppns = session.scalars(select(Person.ppn)).all()
    assert len(ppns) == len(set(ppns)) == 40


def test_a_decision_taken_twice_at_once_is_applied_once(
    db: Engine, clock: FrozenClock, session: Session, policy: CheckpointPolicy
) -> None:
    factory = make_session_factory(db)
    with unit_of_work(factory, clock, policy=policy) as s:
        arrest_id = intake.book_arrest(s, CLERK, _body(0)).id

    def decide(_: int) -> str:
        try:
            with unit_of_work(factory, clock, policy=policy) as s:
                decision = ChargingDecisionIn(decision="approved")
                workflow.record_charging_decision(s, ADA, arrest_id, decision, zone=CITY)
        except InvalidTransition:
            return "refused"
        return "applied"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = sorted(pool.map(decide, range(6)))
    assert outcomes == ["applied"] + ["refused"] * 5
    dockets = session.scalars(select(Arrest.docket_number)).all()
    assert dockets == ["MC-51-CR-0000001-2026"]
