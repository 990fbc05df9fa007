"""Webhooks: signed per Standard Webhooks, CloudEvents that the SDK parses, retried with the
same webhook-id, Retry-After honoured, 410 disables, one row per attempt, replay, and nothing
sent once the agreement stops. The worker runs in process on the test's frozen clock, against a
real HTTP receiver."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_structured
from cloudevents.core.formats.json import JSONFormat
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from pars.audit.chain import CheckpointPolicy
from pars.audit.models import AuditEntry, Disclosure
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.feed import delivery
from pars.feed.fanout import fan_out
from pars.feed.models import Subscription, WebhookJob
from pars.feed.worker import FeedWorker, WorkerOptions
from pars.settings import PrivateTargets, Settings
from pars.work import unit_of_work
from tests.conftest import User
from tests.feed.conftest import ASSAULT_CHARGE
from tests.feed.receivers import Answer, Receiver
from tests.sharing.conftest import TERMS

Make = Callable[..., dict[str, Any]]


def _attempts(client: TestClient, user: User, subscription: dict[str, Any], status: str | None = None) -> list[Any]:
    params = {} if status is None else {"status": status}
    response = client.get(f"/api/v1/subscriptions/{subscription['id']}/deliveries", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


def test_a_delivery_is_signed_and_is_a_cloud_event(
    client: TestClient,
    agreement: Make,
    fbi: User,
    book: Make,
    subscribe: Make,
    receiver: Receiver,
    worker: FeedWorker,
    session: Session,
) -> None:
    agreement()
    subscription = subscribe(fbi, receiver.url())
    assert subscription["secret"].startswith("whsec_")
    record = book()
    worker.drain()

    assert receiver.wait_for(1)
    (received,) = receiver.received
    payload = Webhook(subscription["secret"]).verify(received.body, received.headers)  # raises when forged
    assert received.headers["content-type"] == "application/cloudevents+json"
    event = from_structured(HTTPMessage(received.headers, received.body), JSONFormat())
    assert event.get_id() == received.webhook_id == payload["id"]
    assert event.get_type() == "pars.arrest.booked" and event.get_subject() == record["id"]
    assert event.get_extension("sequence") == "00000000000000000001"
    data = event.get_data()
    assert isinstance(data, dict) and set(data) == {"id", "tracking_number", "status", "person", "arrest", "charges", "custody"}  # fmt: skip
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 43 + "=").verify(received.body, received.headers)

    (attempt,) = _attempts(client, fbi, subscription)
    assert attempt["status"] == "succeeded" and attempt["status_code"] == 204 and attempt["attempt"] == 1
    assert attempt["event_id"] == received.webhook_id and attempt["latency_ms"] >= 0
    # Disclosed to FBI for the subscription's purpose, on the feed channel.
    session.expire_all()
    disclosure = session.scalars(select(Disclosure)).one()
    assert (disclosure.agency, disclosure.channel, disclosure.purpose) == ("FBI", "feed", "criminal_investigation")
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "feed.deliver")).one()
    assert entry.details["records"] == [record["id"]] and entry.agency == "FBI"
    worker.drain()
    assert len(receiver.received) == 1  # exactly once


@pytest.mark.parametrize("failure", ["500", "timeout", "refused"])
def test_a_failed_delivery_is_retried_with_the_same_webhook_id(
    client: TestClient,
    agreement: Make,
    fbi: User,
    book: Make,
    subscribe: Make,
    receiver: Receiver,
    worker: FeedWorker,
    clock: FrozenClock,
    failure: str,
) -> None:
    agreement()
    subscription = subscribe(fbi, receiver.url())
    book()
    if failure == "500":
        receiver.answers = [Answer(500)]
    elif failure == "timeout":
        receiver.answers = [Answer(204, delay=1.5)]  # the sender gives up after 1 s
    else:
        receiver.stop()
    worker.drain()
    if failure == "refused":
        receiver.start()
    clock.advance(timedelta(seconds=4))
    worker.drain()
    assert len(receiver.received) == (0 if failure == "refused" else 1)  # not before the first delay
    clock.advance(timedelta(seconds=1))
    worker.drain()

    assert receiver.when(lambda: len({r.ended > 0 for r in receiver.received}) == 1 and receiver.received[-1].ended > 0)
    ids = {r.webhook_id for r in receiver.received}
    assert len(ids) == 1 and len(receiver.received) == (1 if failure == "refused" else 2)
    attempts = _attempts(client, fbi, subscription)
    assert [a["status"] for a in attempts] == ["succeeded", "failed"]  # newest first
    failed = _attempts(client, fbi, subscription, status="failed")
    assert [a["attempt"] for a in failed] == [1] and failed[0]["event_id"] in ids
    expected = {"500": 500, "timeout": None, "refused": None}[failure]
    category = {"500": "http_status", "timeout": "timeout", "refused": "connection_refused"}[failure]
    assert failed[0]["status_code"] == expected and failed[0]["error"] == category
    assert attempts[0]["error"] is None


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(
    agreement: Make,
    fbi: User,
    book: Make,
    subscribe: Make,
    receiver: Receiver,
    worker: FeedWorker,
    clock: FrozenClock,
    status: int,
) -> None:
    agreement()
    subscribe(fbi, receiver.url())
    book()
    receiver.answers = [Answer(status, {"Retry-After": "120"})]
    worker.drain()
    clock.advance(timedelta(seconds=60))  # past the schedule's 5 s, short of what the receiver asked
    worker.drain()
    assert len(receiver.received) == 1
    clock.advance(timedelta(seconds=60))
    worker.drain()
    assert len(receiver.received) == 2 and receiver.received[0].webhook_id == receiver.received[1].webhook_id


def test_an_endpoint_that_answers_410_is_disabled(
    client: TestClient,
    agreement: Make,
    fbi: User,
    book: Make,
    subscribe: Make,
    receiver: Receiver,
    worker: FeedWorker,
    session: Session,
) -> None:
    agreement()
    subscription = subscribe(fbi, receiver.url())
    book()
    book()
    receiver.default = Answer(410)
    worker.drain()
    book()
    worker.drain()
    shown = client.get(f"/api/v1/subscriptions/{subscription['id']}", headers=fbi.headers).json()
    assert shown["status"] == "disabled" and "410" in shown["status_reason"]
    # At most the two first events were in flight together; nothing was attempted after the 410.
    assert len(receiver.received) <= 2
    session.expire_all()
    jobs = session.scalars(select(WebhookJob)).all()
    assert {j.status for j in jobs} == {"cancelled"} and len(jobs) == 2  # the third event made no job
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "feed.subscription_disable")).one()


def test_a_receiver_down_for_the_whole_window_loses_nothing(
    db: Engine,
    settings: Settings,
    clock: FrozenClock,
    agreement: Make,
    fbi: User,
    walk: Make,
    subscribe: Make,
    receiver: Receiver,
    policy: CheckpointPolicy,
) -> None:
    agreement()
    subscribe(fbi, receiver.url())
    records = [walk("arraigned") for _ in range(3)]  # three events each
    options = WorkerOptions(
        schedule=(timedelta(seconds=1), timedelta(seconds=2)), zone=settings.zone, targets=PrivateTargets.LOOPBACK
    )
    worker = FeedWorker(make_session_factory(db), clock, options, checkpoints=policy)
    receiver.stop()
    for _ in range(8):  # far past the end of the schedule: the last delay repeats
        worker.drain()
        clock.advance(timedelta(seconds=2))
    receiver.start()
    for _ in range(3):
        worker.drain()
        clock.advance(timedelta(seconds=2))
    worker.sender.close()

    assert receiver.wait_for(9)
    by_arrest: dict[str, list[str]] = {}
    for item in receiver.received:
        body = from_structured(HTTPMessage(item.headers, item.body), JSONFormat())
        by_arrest.setdefault(str(body.get_subject()), []).append(str(body.get_type()))
    assert by_arrest == {
        r["id"]: ["pars.arrest.booked", "pars.arrest.charged", "pars.arrest.arraigned"] for r in records
    }


def test_one_delivery_in_flight_per_arrest_and_arrests_in_parallel(
    db: Engine,
    clock: FrozenClock,
    agreement: Make,
    fbi: User,
    walk: Make,
    book: Make,
    subscribe: Make,
    policy: CheckpointPolicy,
) -> None:
    agreement()
    subscribe(fbi, "https://fbi.example.org/hook")
    first = walk("charges_approved")  # two events
    second = book()
    factory = make_session_factory(db)
    with unit_of_work(factory, clock, policy=policy) as session:
        fan_out(session)
    with unit_of_work(factory, clock, policy=policy) as session:
        taken = [(str(j.arrest_id), j.sequence) for j in delivery.claim(session, lease=timedelta(seconds=60), limit=10)]
    assert sorted(taken) == sorted([(first["id"], 1), (second["id"], 3)])
    with unit_of_work(factory, clock, policy=policy) as session:  # another worker, meanwhile: nothing it may take
        assert delivery.claim(session, lease=timedelta(seconds=60), limit=10) == []
    clock.advance(timedelta(seconds=61))  # the first worker died: its leases run out
    with unit_of_work(factory, clock, policy=policy) as session:
        again = [(str(j.arrest_id), j.sequence) for j in delivery.claim(session, lease=timedelta(seconds=60), limit=10)]
    assert sorted(again) == sorted(taken)


def test_replay_sends_again_through_the_gate(
    client: TestClient,
    agreement: Make,
    fbi: User,
    book: Make,
    subscribe: Make,
    receiver: Receiver,
    worker: FeedWorker,
) -> None:
    agreement()
    subscription = subscribe(fbi, receiver.url())
    for _ in range(3):
        book()
    worker.drain()
    assert receiver.wait_for(3)
    replay = client.post(f"/api/v1/subscriptions/{subscription['id']}/replay", json={"after": "1"}, headers=fbi.headers)
    assert replay.status_code == 202 and replay.json()["queued"] == 2
    worker.drain()
    assert receiver.wait_for(5)
    first, replayed = receiver.received[:3], receiver.received[3:]
    by_sequence = {json.loads(r.body)["sequence"]: r.webhook_id for r in first}
    assert sorted(r.webhook_id for r in replayed) == sorted(v for k, v in by_sequence.items() if int(k) > 1)
    assert (
        client.post(
            f"/api/v1/subscriptions/{subscription['id']}/replay", json={"after": "x"}, headers=fbi.headers
        ).status_code
        == 422
    )


@pytest.mark.parametrize("stop", ["expiry", "suspension", "termination", "suspension_during_retries"])
def test_nothing_leaves_once_the_agreement_stops(
    client: TestClient,
    agreement: Make,
    governors: dict[str, User],
    fbi: User,
    book: Make,
    subscribe: Make,
    receiver: Receiver,
    worker: FeedWorker,
    clock: FrozenClock,
    session: Session,
    stop: str,
) -> None:
    """Between an event's creation and its send the agreement stops: not delivered, audited."""
    agreement_id = agreement()["id"]
    subscribe(fbi, receiver.url())
    record = book(charges=ASSAULT_CHARGE)
    worker.fan_out()
    if stop == "suspension_during_retries":
        receiver.answers = [Answer(503)]
        worker.drain()
        assert len(receiver.received) == 1
    city = governors["CITY"].headers
    if stop == "expiry":
        clock.set(datetime.fromisoformat(TERMS["expires_at"]))
    elif stop == "termination":
        body = {"effective_at": clock.now().isoformat(), "reason": "ended by the city"}
        assert client.post(f"/api/v1/agreements/{agreement_id}/termination", json=body, headers=city).status_code == 200
    else:
        body = {"reason": "under review"}
        assert client.post(f"/api/v1/agreements/{agreement_id}/suspension", json=body, headers=city).status_code == 200
    clock.advance(timedelta(seconds=5))
    worker.drain()

    assert len(receiver.received) == (1 if stop == "suspension_during_retries" else 0)
    session.expire_all()
    assert session.scalars(select(WebhookJob.status)).one() == "withheld"
    withheld = session.scalars(select(AuditEntry).where(AuditEntry.action == "feed.withhold")).one()
    assert withheld.outcome == "refused" and withheld.agency == "FBI"
    assert withheld.details["reason"] == "no_agreement_in_force" and withheld.details["records"] == [record["id"]]
    assert withheld.details["sequences"] == [1]
    assert session.scalars(select(Subscription.status)).one() == "active"


def test_pipelined_batches_keep_each_endpoints_order_and_account_every_delivery(
    db: Engine,
    settings: Settings,
    clock: FrozenClock,
    agreement: Make,
    fbi: User,
    walk: Make,
    subscribe: Make,
    receiver: Receiver,
    session: Session,
    policy: CheckpointPolicy,
) -> None:
    """Batches of three, so one batch is in flight while the next is claimed: still one arrest's
    events reach each endpoint in order, each exactly once, each an attempt row, a disclosure
    row and a record on a ``feed.deliver`` entry."""
    agreement()
    paths = ["/a", "/b"]
    for path in paths:
        subscribe(fbi, receiver.url(path))
    records = [walk("arraigned") for _ in range(4)]  # three events each
    options = WorkerOptions(
        schedule=(timedelta(seconds=5),), zone=settings.zone, batch=3, targets=PrivateTargets.LOOPBACK
    )
    worker = FeedWorker(make_session_factory(db), clock, options, checkpoints=policy)
    worker.drain()
    worker.sender.close()

    assert receiver.wait_for(24)
    seen: dict[tuple[str, str], list[str]] = {}
    for item in receiver.received:
        body = from_structured(HTTPMessage(item.headers, item.body), JSONFormat())
        seen.setdefault((item.path, str(body.get_subject())), []).append(str(body.get_type()))
    steps = ["pars.arrest.booked", "pars.arrest.charged", "pars.arrest.arraigned"]
    assert seen == {(path, r["id"]): steps for path in paths for r in records}
    assert len({(item.path, item.webhook_id) for item in receiver.received}) == 24
    jobs = session.scalars(select(WebhookJob)).all()
    assert len(jobs) == 24 and {j.status for j in jobs} == {"delivered"} and {j.attempts for j in jobs} == {1}
    feed_disclosures = session.scalars(select(Disclosure).where(Disclosure.channel == "feed")).all()
    assert len(feed_disclosures) == 24
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "feed.deliver")).all()
    assert sum(len(e.details["records"]) for e in entries) == 24


def test_a_claim_takes_each_endpoints_oldest_heads_up_to_its_room(
    db: Engine,
    clock: FrozenClock,
    agreement: Make,
    fbi: User,
    walk: Make,
    book: Make,
    subscribe: Make,
    policy: CheckpointPolicy,
) -> None:
    """With ``per_endpoint``, the claim takes, in claiming order (``next_attempt_at``, ``id``),
    each job that is the oldest pending of its (subscription, arrest), while its subscription
    has room (``per_endpoint`` less what is ``busy``), up to ``limit``: as this reference reads
    it from every pending job."""
    agreement()
    hooks = [subscribe(fbi, f"https://fbi.example.org/hook/{n}") for n in range(3)]
    walk("charges_approved")  # two events of one arrest: the second waits behind the first
    for _ in range(4):
        book()
    factory = make_session_factory(db)
    with unit_of_work(factory, clock, policy=policy) as session:
        fan_out(session)
    busy = {uuid.UUID(hooks[0]["id"]): 2, uuid.UUID(hooks[1]["id"]): 3}  # room: 1, 0 and 3
    with unit_of_work(factory, clock, policy=policy) as session:
        jobs = session.scalars(select(WebhookJob).where(WebhookJob.status == "pending")).all()
        heads: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
        for job in sorted(jobs, key=lambda j: (j.sequence, j.id)):
            heads.setdefault((job.subscription_id, job.arrest_id), job.id)
        room = {hook: 3 - busy.get(hook, 0) for hook in {job.subscription_id for job in jobs}}
        expected: list[int] = []
        for job in sorted(jobs, key=lambda j: (j.next_attempt_at, j.id)):
            if (
                heads[(job.subscription_id, job.arrest_id)] == job.id
                and room[job.subscription_id] > 0
                and len(expected) < 10
            ):
                room[job.subscription_id] -= 1
                expected.append(job.id)
    with unit_of_work(factory, clock, policy=policy) as session:
        taken = delivery.claim(session, lease=timedelta(seconds=60), limit=10, per_endpoint=3, busy=busy)
    assert sorted(job.id for job in taken) == sorted(expected)
    assert len(expected) == 4
