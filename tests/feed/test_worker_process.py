"""The worker as a real process (`python -m pars.cli worker`) on the test's database, sending to a
real receiver: killed with SIGKILL in the middle of a batch and restarted, nothing is lost and
duplicates carry the same webhook-id; two workers side by side never send one event twice; SIGTERM
stops a worker cleanly. The workers run on the system clock, so the agreement here runs to 2036."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pars.audit.chain import CheckpointPolicy
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.feed.models import FeedEvent
from pars.outbox.events import EventType, emit
from pars.settings import Settings
from pars.work import unit_of_work
from tests.conftest import User
from tests.feed.receivers import Answer, Receiver

Make = Callable[..., dict[str, Any]]
LONG_TERMS = {"expires_at": "2036-01-01T00:00:00-05:00"}
EVENTS_PER_ARREST = 5


@pytest.fixture
def spawn(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    env = {
        **os.environ,
        "PARS_DATABASE_URL": settings.database_url,
        "PARS_AUDIT_KEY_FILE": str(settings.audit_key_file),
        "PARS_WEBHOOK_RETRY_SCHEDULE": "1s",
        "PARS_WEBHOOK_PRIVATE_TARGETS": "loopback",
        "PARS_WEBHOOK_DEADLINE_SECONDS": "1",  # so that a 3 s lease outlives every attempt
    }

    def start(lease: str = "3s") -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "pars.cli", "worker", "--lease", lease, "--poll", "0.2"]
        with (tmp_path / f"worker-{len(started)}.log").open("wb") as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603 - our CLI
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def _events(db: Engine, clock: FrozenClock, book: Make, arrests: int, policy: CheckpointPolicy) -> list[str]:
    """`arrests` bookings, then rounds of updates: EVENTS_PER_ARREST events per arrest."""
    ids = [book()["id"] for _ in range(arrests)]
    factory = make_session_factory(db)
    for _ in range(EVENTS_PER_ARREST - 1):
        with unit_of_work(factory, clock, policy=policy) as session:
            for arrest_id in ids:
                emit(session, EventType.UPDATED, uuid.UUID(arrest_id))
    return ids


def _check_order_and_ids(receiver: Receiver, expected: set[tuple[str, int]]) -> int:
    """Every event at least once, each event always under one webhook-id, and per arrest in
    order (a repeat only right where it was). Returns how many repeats there were."""
    seen: dict[tuple[str, int], str] = {}
    per_arrest: dict[str, list[int]] = {}
    for item in receiver.received:
        body = json.loads(item.body)
        key = (body["subject"], int(body["sequence"]))
        assert seen.setdefault(key, item.webhook_id) == item.webhook_id, "a repeat under another webhook-id"
        per_arrest.setdefault(body["subject"], []).append(key[1])
    assert set(seen) == expected
    for sequences in per_arrest.values():
        assert sequences == sorted(sequences), "an arrest's events out of order"
    return len(receiver.received) - len(seen)


def _expected(session: Session) -> set[tuple[str, int]]:
    session.expire_all()
    return {(str(e.arrest_id), e.sequence) for e in session.scalars(select(FeedEvent).where(FeedEvent.agency == "FBI"))}


def test_a_worker_killed_mid_batch_loses_nothing(
    db: Engine,
    clock: FrozenClock,
    agreement: Make,
    fbi: User,
    book: Make,
    subscribe: Make,
    receiver: Receiver,
    spawn: Callable[[], subprocess.Popen[bytes]],
    session: Session,
    policy: CheckpointPolicy,
) -> None:
    agreement(**LONG_TERMS)
    subscribe(fbi, receiver.url())
    _events(db, clock, book, arrests=40, policy=policy)  # 200 events
    receiver.hold_after = 60  # from the 61st on, requests hang: the worker is killed with them in flight
    first = spawn()
    assert receiver.wait_for(61, timeout=60)
    time.sleep(0.3)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    receiver.release.set()

    second = spawn()
    assert receiver.when(lambda: len({r.webhook_id for r in receiver.received}) >= 200, timeout=90)
    second.send_signal(signal.SIGTERM)
    assert second.wait(60) == 0  # a clean stop (60 s only bounds a hang)
    expected = _expected(session)
    assert len(expected) == 200
    repeats = _check_order_and_ids(receiver, expected)
    assert repeats >= 1  # those in flight at the kill came again, under their webhook-id


def test_two_workers_share_the_work_without_sending_anything_twice(
    db: Engine,
    clock: FrozenClock,
    agreement: Make,
    fbi: User,
    book: Make,
    subscribe: Make,
    receiver: Receiver,
    spawn: Callable[..., subprocess.Popen[bytes]],
    session: Session,
    policy: CheckpointPolicy,
) -> None:
    agreement(**LONG_TERMS)
    subscribe(fbi, receiver.url())
    # Leases far longer than any round: on a busy machine a round can stall for seconds between
    # sending and recording, and a job whose 3 s lease ran out meanwhile is rightly sent again
    # (at least once). What this test looks for, two workers claiming the same job, needs no
    # lease to run out.
    workers = [spawn(lease="60s"), spawn(lease="60s")]
    receiver.default = Answer(204, delay=0.005)
    _events(db, clock, book, arrests=100, policy=policy)  # 500 events, while both run
    assert receiver.wait_for(500, timeout=120)
    time.sleep(1.0)  # anything sent twice would show up now
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    assert [worker.wait(60) for worker in workers] == [0, 0]
    expected = _expected(session)
    assert len(expected) == 500
    assert _check_order_and_ids(receiver, expected) == 0  # no crash, a receiver that always says 2xx: exactly once
