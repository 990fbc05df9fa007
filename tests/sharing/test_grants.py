"""The compiled grant's in-memory scope against its SQL scope, and the daily query count kept
incrementally on the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pars.actors import Actor, PartnerActor
from pars.audit import AuditAction, record_event
from pars.audit.chain import CheckpointPolicy
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.permissions import Role
from pars.records.models import Arrest
from pars.records.serialize import arrest_record
from pars.sharing.gate import QueryCounts
from pars.sharing.grants import Scope
from pars.work import unit_of_work
from tests.conftest import User, _empty_tables

Make = Callable[..., dict[str, Any]]
SCOPES: list[dict[str, Any]] = [
    {},
    {"grades": ["M2"]},
    {"titles": [18]},
    {"titles": [35]},
    {"sections": ["3502"]},
    {"grades": ["F1"], "titles": [18]},
    {"grades": ["F1"], "sections": ["2701"]},  # both exist, but never on one charge
    {"statuses": ["booked"]},
    {"statuses": ["charges_approved"], "titles": [18]},
]


def test_in_memory_scope_agrees_with_the_sql_scope(
    client: TestClient, book: Make, walk: Make, magistrate: User, session: Session
) -> None:
    book()
    book(charges=[{"statute": "18 § 2701 §§ A1", "grade": "M2"}, {"statute": "18 § 3502 §§ A1", "grade": "F1"}])
    book(charges=[{"statute": "35 § 780-113 §§ A16", "grade": "M"}])
    walk("charges_approved")
    sealed = walk("released")
    client.post(f"/api/v1/arrests/{sealed['id']}/seal", json={"order_ref": "X-1"}, headers=magistrate.headers)
    session.expire_all()
    arrests = list(session.scalars(select(Arrest)))
    for terms in SCOPES:
        scope = Scope.from_terms(terms)
        in_sql = set(session.scalars(select(Arrest.id).where(scope.condition())))
        in_memory = {a.id for a in arrests if scope.admits(arrest_record(a))}
        assert in_memory == in_sql, terms
        assert sealed["id"] not in {str(i) for i in in_memory}


@pytest.fixture
def fbi_actor(make_user: Callable[..., User]) -> Actor:
    user = make_user(Role.PARTNER, agency="FBI")
    return PartnerActor(user_id=uuid.UUID(user.id), agency_code="FBI", roles=frozenset({Role.PARTNER}))


def test_query_count_follows_the_trail_and_recounts_when_the_trail_is_not_the_one_it_counted(
    db: Engine,
    clock: FrozenClock,
    fbi_actor: Actor,
    policy: CheckpointPolicy,
) -> None:
    factory = make_session_factory(db)
    zone = ZoneInfo("America/New_York")
    midnight = datetime.combine(clock.now().astimezone(zone).date(), time(0), tzinfo=zone)
    counts = QueryCounts()
    other = PartnerActor(user_id=uuid.uuid4(), agency_code="ATF", roles=frozenset({Role.PARTNER}))

    def add(count: int, action: AuditAction = AuditAction.ARREST_SEARCH, actor: Actor = fbi_actor) -> None:
        # Each in its own transaction, as other requests (or other processes) would write them.
        for _ in range(count):
            with unit_of_work(factory, clock, policy=policy) as session:
                record_event(session, actor, action)

    def used() -> int:
        with unit_of_work(factory, clock, policy=policy) as session:
            return counts.used(session, "FBI", midnight)

    assert used() == 0
    add(3)
    assert used() == 3
    add(2, AuditAction.ARREST_READ)
    add(4, AuditAction.ARREST_CREATE)  # not a query
    add(5, actor=other)  # another agency's
    assert used() == 5
    assert used() == 5  # nothing new: nothing added
    # The trail is replaced by one with more entries than the count had seen: the entry it
    # remembered has another hash now, so it counts again instead of adding to a stale count.
    _empty_tables(db)
    add(30)
    assert used() == 30
