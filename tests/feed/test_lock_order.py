"""The lock order of webhook jobs, forced rather than hoped for (PostgreSQL: SQLite serialises
writers, so it has no row locks to order).

The interleaving that deadlocked before the fix: the worker records a batch whose endpoint
answered 410 Gone, so it must lock the batch's jobs and disable (lock) the subscription, while
the partner deletes that subscription, which locks the subscription and cancels (locks) its
jobs. Taken in opposite orders, each waits for the other. The test stops the worker right after
its first lock, lets the deletion run until it waits on a lock (or finishes), then lets the
worker go on: with one lock order, the deletion waits and both finish."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session

from pars.actors import PartnerActor
from pars.audit.chain import CheckpointPolicy
from pars.auth.models import User as UserRow
from pars.auth.service import actor_for
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.feed import delivery, service
from pars.feed.delivery import RetryPolicy
from pars.feed.models import Subscription, WebhookAttempt, WebhookJob
from pars.feed.vocabulary import DeliveryError
from pars.feed.webhooks import Result
from pars.feed.worker import FeedWorker
from pars.work import unit_of_work
from tests.conftest import User
from tests.feed.conftest import SCHEDULE
from tests.feed.receivers import Receiver

Make = Callable[..., dict[str, Any]]
HANG = 60  # bounds a hang only; every wait below ends on a condition


def test_recording_a_gone_endpoint_and_deleting_its_subscription_take_locks_in_one_order(
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
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: there are no row locks to take in an order")
    agreement()
    subscription_id = uuid.UUID(subscribe(fbi, receiver.url())["id"])
    for _ in range(3):
        book()
    worker.fan_out()
    factory = make_session_factory(db)
    with unit_of_work(factory, clock, policy=policy) as work:
        jobs = delivery.claim(work, lease=worker.options.lease, limit=10)
        outgoing = delivery.prepare(work, jobs, zone=worker.options.zone)
    assert len(outgoing) == 3
    results = [Result(sent, 410, 5, DeliveryError.HTTP_STATUS) for sent in outgoing]  # the endpoint is gone
    with factory() as lookup:
        partner = actor_for(lookup.get_one(UserRow, uuid.UUID(fbi.id)))
        assert isinstance(partner, PartnerActor)

    holding, go = threading.Event(), threading.Event()
    recorder: dict[str, int] = {}
    failures: list[BaseException] = []

    def pause_after_first_lock(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if threading.get_ident() == recorder.get("thread") and " FOR " in statement and "UPDATE" in statement:
            recorder["thread"] = -1  # once
            holding.set()
            assert go.wait(HANG), "the test never let the worker go on"

    def record() -> None:
        recorder["thread"] = threading.get_ident()
        try:
            with unit_of_work(factory, clock, policy=policy) as work:
                delivery.record(work, results, RetryPolicy(SCHEDULE))
        except BaseException as exc:  # noqa: BLE001 - kept for the assertion
            failures.append(exc)

    deleter: dict[str, int] = {}

    def delete() -> None:
        try:
            with unit_of_work(factory, clock, policy=policy, actor=partner) as work:
                deleter["pid"] = work.execute(text("SELECT pg_backend_pid()")).scalar_one()
                service.delete_subscription(work, partner, subscription_id)
        except BaseException as exc:  # noqa: BLE001 - kept for the assertion
            failures.append(exc)

    event.listen(db, "after_cursor_execute", pause_after_first_lock)
    try:
        worker_thread = threading.Thread(target=record)
        worker_thread.start()
        assert holding.wait(HANG), failures
        delete_thread = threading.Thread(target=delete)
        delete_thread.start()
        # Until the deletion waits for a lock the worker holds (or is done, not needing one).
        with db.connect() as watch:
            waiting = text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid")
            while delete_thread.is_alive():
                pid = deleter.get("pid")
                if pid is not None and watch.execute(waiting, {"pid": pid}).scalar():
                    break
                watch.commit()
                delete_thread.join(0.01)
        go.set()
        worker_thread.join(HANG)
        delete_thread.join(HANG)
    finally:
        go.set()
        event.remove(db, "after_cursor_execute", pause_after_first_lock)

    assert not worker_thread.is_alive() and not delete_thread.is_alive()
    assert failures == [], failures  # before the fix: DeadlockDetected in one of the two
    session.expire_all()
    assert session.get_one(Subscription, subscription_id).status == "deleted"
    # The worker's attempts are on record, once each; no job is left to send again.
    assert len(session.scalars(select(WebhookAttempt)).all()) == 3
    assert {job.status for job in session.scalars(select(WebhookJob))} == {"cancelled"}
