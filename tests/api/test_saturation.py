"""CONTRACT §3: a database that refuses connections, a pool with nothing to lend, or a lock held
past its deadline is 503 with Retry-After, never a 500 or a hang; /healthz says so within a
second. (The same against real `pars serve` processes: test_hostile_clients.py.)

The times are held to budgets that grow with how long a request that waits for nothing (/docs)
takes on this machine at the moment (tests/conftest.py): a busy machine must not fail them, a
wait on the database still does."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from pars.app import create_app
from pars.clock import FrozenClock
from pars.db import Deadlines, make_engine
from pars.settings import Settings
from tests.conftest import START, User, arrest_body, baseline_seconds, health_answer, health_budget

REFUSING = "postgresql+psycopg://postgres@127.0.0.1:1/none"


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["status"] == 503 and "retry" in body["detail"]


def test_a_refused_database_connection_is_503_with_retry_after(audit_key_file: Path) -> None:
    settings = Settings(database_url=REFUSING, audit_key_file=audit_key_file)
    with TestClient(create_app(settings, clock=FrozenClock(START))) as client:
        _unavailable(client.get("/api/v1/agencies", headers={"Authorization": "Bearer pars_x_y"}))
        _unavailable(client.post("/api/v1/arrests", json=arrest_body(), headers={"Authorization": "Bearer x"}))
        baseline = baseline_seconds(lambda: client.get("/docs"))
        health, seconds = health_answer(lambda: client.get("/healthz"), baseline)
        assert seconds < health_budget(baseline)
        assert health.status_code == 503 and health.json()["database"] == "unreachable"


def test_an_exhausted_pool_is_503_not_a_hang(db: Engine, settings: Settings, clock: FrozenClock, booking: User) -> None:
    small = make_engine(settings.database_url, deadlines=Deadlines(pool=0.5), pool_size=1, max_overflow=0)
    try:
        with TestClient(create_app(settings, clock=clock, engine=small)) as client:
            baseline = baseline_seconds(lambda: client.get("/docs"))
            with small.connect():  # the pool's only connection, held elsewhere
                started = time.monotonic()
                _unavailable(client.get("/api/v1/agencies", headers=booking.headers))
                assert time.monotonic() - started < 5 + 5 * baseline  # the pool deadline, not a hang
                assert client.get("/healthz").status_code == 200  # it has its own way in
            assert client.get("/api/v1/agencies", headers=booking.headers).status_code == 200
    finally:
        small.dispose()


def test_a_held_lock_is_503_within_the_lock_deadline(
    db: Engine, settings: Settings, clock: FrozenClock, booking: User, reader_engine: Engine
) -> None:
    """A table locked by another transaction: the booking waits at most the lock timeout
    (PostgreSQL) or the busy timeout (SQLite, whose writers take the database's one write lock)."""
    deadlines = Deadlines(statement=3, lock=0.5, busy=0.5, pool=2)
    engine = make_engine(settings.database_url, deadlines=deadlines)
    try:
        with TestClient(create_app(settings, clock=clock, engine=engine)) as client, reader_engine.connect() as holder:
            baseline = baseline_seconds(lambda: client.get("/docs"))
            if holder.dialect.name == "postgresql":
                holder.execute(text("LOCK TABLE arrests IN ACCESS EXCLUSIVE MODE"))
            else:
                holder.exec_driver_sql("BEGIN IMMEDIATE")
            started = time.monotonic()
            _unavailable(client.post("/api/v1/arrests", json=arrest_body(), headers=booking.headers))
            assert time.monotonic() - started < 5 + 5 * baseline  # the lock deadline, not a hang
            health, seconds = health_answer(lambda: client.get("/healthz"), baseline)
            assert health.json() == {"status": "ok", "database": "ok"}
            assert seconds < health_budget(baseline)
            holder.rollback()
            assert client.post("/api/v1/arrests", json=arrest_body(), headers=booking.headers).status_code == 201
    finally:
        engine.dispose()


@pytest.mark.parametrize("seconds", [0.0, -1.0])
def test_deadlines_must_be_positive(audit_key_file: Path, seconds: float) -> None:
    with pytest.raises(ValueError, match="database_lock_timeout"):
        Settings(audit_key_file=audit_key_file, database_lock_timeout=seconds)
