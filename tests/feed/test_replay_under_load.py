"""Replaying a subscription twice and deleting it while the worker runs: no deadlock (one lock
order: the subscription, then its jobs by id, in replay, deletion and the worker's recording),
every attempt the receiver saw is recorded (no batch lost to a failed round and sent again after
its lease), and the worker never fails a round."""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from pars.actors import Actor, PartnerActor
from pars.audit.chain import CheckpointPolicy
from pars.auth.models import User as UserRow
from pars.auth.service import actor_for
from pars.clock import FrozenClock, SystemClock
from pars.db import make_session_factory
from pars.errors import Conflict, NotFound
from pars.feed import service
from pars.feed.models import Subscription, WebhookAttempt
from pars.feed.worker import FeedWorker, WorkerOptions
from pars.settings import Settings
from pars.work import unit_of_work
from tests.conftest import User
from tests.feed.receivers import Answer, Receiver

Make = Callable[..., dict[str, Any]]
ROUNDS = 6


class WatchedWorker(FeedWorker):
    """Keeps every exception a round raised (the real loop only logs them)."""

    failures: list[BaseException]

    def step(self, *, fan_out: bool = True, claim: bool = True) -> bool:
        try:
            return super().step(fan_out=fan_out, claim=claim)
        except BaseException as exc:
            self.failures.append(exc)
            raise


def _as(factory: sessionmaker[Session], clock: FrozenClock, policy: CheckpointPolicy, actor: Actor,
        action: Callable[..., object], *args: object, **kwargs: object) -> None:  # fmt: skip
    with unit_of_work(factory, clock, policy=policy, actor=actor) as work:
        action(work, actor, *args, **kwargs)


def _more_than(receiver: Receiver, count: int) -> bool:
    return len(receiver.received) > count


def _race(actions: list[Callable[[], object]]) -> list[BaseException]:
    """Runs the actions at once, each in its own thread and transaction; returns what failed
    (a refusal because the subscription was deleted first is an answer, not a failure)."""
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        barrier.wait()
        try:
            action()
        except (NotFound, Conflict):
            pass
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_replays_and_a_deletion_under_a_running_worker_never_deadlock(
    db: Engine,
    clock: FrozenClock,
    settings: Settings,
    agreement: Make,
    fbi: User,
    walk: Make,
    subscribe: Make,
    receiver: Receiver,
    session: Session,
    policy: CheckpointPolicy,
) -> None:
    agreement(expires_at="2036-01-01T00:00:00-05:00")  # the worker runs on the system clock
    receiver.default = Answer(204, delay=0.002)  # attempts stay in flight for a moment
    for _ in range(12):
        walk("arraigned")  # three events each
    factory = make_session_factory(db)
    with factory() as lookup:
        partner = actor_for(lookup.get_one(UserRow, uuid.UUID(fbi.id)))
        assert isinstance(partner, PartnerActor)
    # The worker on the system clock, so that a retry (a busy machine can make an attempt miss
    # its deadline) comes due; the jobs it is given were made on the test's frozen clock, in the past.
    options = WorkerOptions(schedule=(timedelta(seconds=1),), zone=settings.zone, deadline=2.0, batch=64, per_endpoint=16,
                            targets=settings.webhook_private_targets, poll=0.05)  # fmt: skip
    worker = WatchedWorker(factory, SystemClock(), options, checkpoints=policy)
    worker.failures = []
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"engine": db}, daemon=True)
    thread.start()
    errors: list[BaseException] = []
    subscriptions: list[str] = []
    try:
        for _ in range(ROUNDS):
            subscription_id = uuid.UUID(subscribe(fbi, receiver.url(f"/{len(subscriptions)}"))["id"])
            subscriptions.append(str(subscription_id))
            before = len(receiver.received)
            with unit_of_work(factory, clock, policy=policy, actor=partner) as work:  # the stream so far, queued for it
                service.replay(work, partner, subscription_id, after=0)
            arrived = receiver.when(functools.partial(_more_than, receiver, before + 2), timeout=30)
            assert arrived, (len(subscriptions), worker.failures, worker.in_flight, errors, thread.is_alive())
            replay = functools.partial(_as, factory, clock, policy, partner, service.replay, subscription_id, after=0)
            delete = functools.partial(
                _as, factory, clock, policy, partner, service.delete_subscription, subscription_id
            )
            errors += _race([replay, replay, delete])
    finally:
        stop.set()
        worker.wake.notify()
        thread.join(60)

    assert not thread.is_alive()
    assert errors == [], errors
    assert worker.failures == [], worker.failures
    # Every request the receiver got is an attempt row: no round's results were lost.
    assert receiver.when(lambda: all(r.ended > 0 for r in receiver.received), timeout=60)
    session.expire_all()
    recorded = session.scalar(select(func.count()).select_from(WebhookAttempt))
    assert recorded == len(receiver.received)
    # A deleted subscription is sent nothing more.
    with factory() as check:
        for stored_id in subscriptions:
            assert check.get_one(Subscription, uuid.UUID(stored_id)).status == "deleted"
