"""Leases outlive attempts: a lease shorter than the deadline plus its margin stops the process at
start-up, and an attempt that could no longer end before its lease runs out is not started (the
job is released as it was, no attempt counted), so a second worker never sends a job while the
first is still sending it."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pars.audit.chain import CheckpointPolicy
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.feed import delivery
from pars.feed.delivery import RetryPolicy
from pars.feed.models import WebhookAttempt, WebhookJob
from pars.feed.worker import FeedWorker, WorkerOptions
from pars.settings import Settings, lease_floor
from pars.work import unit_of_work
from tests.conftest import User
from tests.feed.conftest import SCHEDULE
from tests.feed.receivers import Receiver

Make = Callable[..., dict[str, Any]]


def test_a_lease_that_an_attempt_could_outlive_is_refused_at_start_up(settings: Settings) -> None:
    assert lease_floor(10) == 20 and lease_floor(1) == 3
    with pytest.raises(ValidationError, match="PARS_WEBHOOK_LEASE_SECONDS must be at least 100"):
        Settings(database_url=settings.database_url, webhook_deadline_seconds=50)
    with pytest.raises(ValidationError):
        Settings(database_url=settings.database_url, webhook_private_targets="sometimes")
    with pytest.raises(ValueError, match="lease must be at least 20s"):
        WorkerOptions(schedule=SCHEDULE, zone=settings.zone, lease=timedelta(seconds=15), deadline=10)
    options = WorkerOptions.from_settings(settings)
    assert options.lease == timedelta(seconds=60) and options.deadline == 10
    assert options.start_window == 60 - 10 - 5


def test_an_attempt_too_late_for_its_lease_is_not_sent_and_the_job_is_released(
    db: Engine,
    clock: FrozenClock,
    agreement: Make,
    fbi: User,
    book: Make,
    subscribe: Make,
    receiver: Receiver,
    worker: FeedWorker,
    session: Session,
    policy: CheckpointPolicy,
) -> None:
    agreement()
    subscribe(fbi, receiver.url())
    book()
    worker.fan_out()
    factory = make_session_factory(db)
    with unit_of_work(factory, clock, policy=policy) as work:
        jobs = delivery.claim(work, lease=timedelta(seconds=60), limit=10)
        (outgoing,) = delivery.prepare(work, jobs, zone=worker.options.zone)
    late = dataclasses.replace(outgoing, start_by=time.monotonic() - 1)
    result = worker.sender.send(late)
    assert not result.sent and receiver.received == []
    with unit_of_work(factory, clock, policy=policy) as work:
        delivery.record(work, [result], RetryPolicy(SCHEDULE))
    session.expire_all()
    job = session.scalars(select(WebhookJob)).one()
    assert (job.status, job.lease_token, job.attempts) == ("pending", None, 0)  # free again, uncounted
    assert session.scalars(select(WebhookAttempt)).all() == []
    worker.drain()  # and the next round sends it
    assert receiver.wait_for(1) and len(receiver.received) == 1
