"""A booking's commit wakes the feed in every process: on PostgreSQL by one NOTIFY on the feed
channel, which the outbox insert carries (`pars.outbox.events.emit`); nothing on a rollback."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import Engine, make_url

from pars.actors import CityActor
from pars.audit.chain import CheckpointPolicy
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.outbox.events import EventType, emit
from pars.outbox.signals import CHANNEL
from pars.permissions import Role
from pars.records import intake
from pars.records.schemas import ArrestIn
from pars.work import unit_of_work
from tests.conftest import arrest_body

CLERK = CityActor(user_id=uuid.uuid4(), agency_code="PPD", roles=frozenset({Role.BOOKING}))


def _listener(engine: Engine) -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(engine.url).set(drivername="postgresql")
    connection = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
    connection.execute(f"LISTEN {CHANNEL}")
    return connection


def test_a_booking_notifies_once_on_commit_and_not_on_rollback(
    db: Engine, clock: FrozenClock, policy: CheckpointPolicy
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's")
    factory = make_session_factory(db)
    with _listener(db) as listener:
        with unit_of_work(factory, clock, policy=policy) as session:
            arrest_id = intake.book(session, CLERK, ArrestIn.model_validate(arrest_body())).row["id"]
            emit(session, EventType.UPDATED, arrest_id)  # a second event in the same transaction
        assert [n.channel for n in listener.notifies(timeout=1)] == [CHANNEL]

        def step_that_fails() -> None:
            with unit_of_work(factory, clock, policy=policy) as session:
                emit(session, EventType.UPDATED, arrest_id)
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            step_that_fails()
        assert list(listener.notifies(timeout=0.5)) == []
