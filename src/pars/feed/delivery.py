"""Webhook delivery, as functions of a session and a clock (the worker is a thin loop around
them, STYLE 7). Each runs inside one short unit of work; HTTP happens between them, never in one.

1. ``claim`` takes due jobs with a lease: on PostgreSQL ``FOR UPDATE SKIP LOCKED``, so any number
   of workers share the queue and none takes a job another holds. Per (subscription, arrest) only
   the oldest pending job can be taken, and not while another worker's lease on an older one
   runs: at most one delivery per arrest is in flight for an endpoint, and one arrest's events
   arrive in the order they happened while other arrests go on in parallel.
2. ``prepare`` asks the gate about each claimed job at this instant and builds the signed
   request; what the gate withholds is settled (and audited) there and then.
3. ``record`` writes one row per attempt and settles each job: delivered on a 2xx; on a failure,
   again after the next delay of ``PARS_WEBHOOK_RETRY_SCHEDULE`` (the last delay repeats, so an
   event that is due is never dropped), or after the receiver's ``Retry-After`` on 429 and 503;
   on 410 the endpoint is disabled and its pending jobs cancelled.

A worker that dies between 1 and 3 leaves a lease that runs out; the job is then sent again,
with the same ``webhook-id``. Delivery is at least once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, Table, and_, bindparam, exists, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from pars.actors import SYSTEM, PartnerActor
from pars.audit import AuditAction, record_event
from pars.clock import now
from pars.feed.events import feed_item, to_json
from pars.feed.models import FeedEvent, Subscription, WebhookAttempt, WebhookJob
from pars.feed.rows import insert_rows
from pars.feed.vocabulary import DeliveryError, JobStatus, SubscriptionStatus
from pars.feed.webhooks import Outgoing, Result
from pars.permissions import Role
from pars.sharing import gate
from pars.sharing.gate import PartnerRequest
from pars.sharing.vocabulary import Channel

# Core tables: recording a batch writes plain rows, without the ORM's per-object work.
_jobs = cast(Table, WebhookJob.__table__)
_attempts = cast(Table, WebhookAttempt.__table__)
_subscriptions = cast(Table, Subscription.__table__)
_events = cast(Table, FeedEvent.__table__)
# A job waits behind an older pending job of its (subscription, arrest). Core, built once: the
# claim runs every round, and building ORM expressions (an alias above all) cost more than
# running them.
_older = _jobs.alias("older")
_WAITS_BEHIND = exists().where(
    _older.c.subscription_id == _jobs.c.subscription_id,
    _older.c.arrest_id == _jobs.c.arrest_id,
    _older.c.status == JobStatus.PENDING,
    or_(_older.c.sequence < _jobs.c.sequence, and_(_older.c.sequence == _jobs.c.sequence, _older.c.id < _jobs.c.id)),
)


@dataclass(frozen=True)
class RetryPolicy:
    schedule: tuple[timedelta, ...]

    def delay(self, attempts: int, asked: timedelta | None) -> timedelta:
        """After the ``attempts``-th failed attempt. The schedule's last delay repeats. A
        receiver's Retry-After is honoured up to the longest delay of the schedule."""
        if asked is not None:
            return min(max(asked, timedelta(seconds=1)), max(self.schedule))
        return self.schedule[min(max(attempts, 1), len(self.schedule)) - 1]


def subscriber(subscription: Subscription | Endpoint) -> PartnerActor:
    """Deliveries to an endpoint are disclosures to its agency, made for the partner user who
    registered it, under the purpose it gave."""
    return PartnerActor(
        user_id=subscription.user_id,
        agency_code=subscription.agency,
        roles=frozenset({Role.PARTNER}),
        name="webhook subscription",
    )


def claim(
    session: Session,
    *,
    lease: timedelta,
    limit: int,
    per_endpoint: int | None = None,
    busy: Mapping[uuid.UUID, int] | None = None,
) -> list[Claimed]:
    """Takes up to ``limit`` due jobs, each the oldest pending one of its (subscription, arrest),
    under a new lease token.

    With ``per_endpoint``, at most that many per subscription, less what this worker already has
    in flight to it (``busy``), and the oldest of each subscription first: a subscription with a
    deep backlog (or a slow endpoint) cannot fill the batch and hold the others up."""
    instant = now(session)
    busy = busy or {}
    uuids = _Uuids()
    free = (
        _jobs.c.status == JobStatus.PENDING,
        _jobs.c.next_attempt_at <= instant,
        or_(_jobs.c.lease_until.is_(None), _jobs.c.lease_until <= instant),
    )
    conditions: list[ColumnElement[bool]] = [*free, ~_WAITS_BEHIND]
    if per_endpoint is not None:
        candidates = _heads(session, free, limit=limit, per_endpoint=per_endpoint, busy=busy, uuids=uuids)
        if not candidates:
            return []
        # The lease conditions again on the locked row: PostgreSQL re-checks them if another
        # worker leased it meanwhile, so a job is never taken twice.
        conditions = [_jobs.c.id.in_(candidates), *free]
    due = (
        select(_jobs.c.id, _raw(_jobs.c.subscription_id))
        .where(*conditions)
        .order_by(_jobs.c.next_attempt_at, _jobs.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=_jobs)
    )
    ids: list[int] = []
    taken: dict[uuid.UUID, int] = {}
    for job_id, raw in session.execute(due):
        subscription_id = uuids[raw]
        count = taken.get(subscription_id, 0) + busy.get(subscription_id, 0)
        if per_endpoint is not None and count >= per_endpoint:
            continue  # locked for a moment, left for a later round
        taken[subscription_id] = taken.get(subscription_id, 0) + 1
        ids.append(job_id)
    if not ids:
        return []
    token = uuid.uuid4().hex
    session.execute(update(_jobs).where(_jobs.c.id.in_(ids)).values(lease_token=token, lease_until=instant + lease))
    # Plain rows, not ORM objects, and each stream event and endpoint read once: a worker claims
    # hundreds of jobs a round, ten endpoints' jobs share one event, and on SQLite every UUID and
    # instant read is a conversion in Python. (A job's arrest is its event's: both fan-out and
    # replay copy it from the event.)
    rows = session.execute(
        select(_jobs.c.id, _raw(_jobs.c.subscription_id), _jobs.c.sequence, _jobs.c.attempts, _jobs.c.feed_event_id)
        .where(_jobs.c.id.in_(ids))
        .order_by(_jobs.c.id)
    ).all()
    events = {
        row[0]: Event(*row[1:])
        for row in session.execute(
            select(_events.c.id, _events.c.event_id, _events.c.type, _events.c.arrest_id, _events.c.sequence,
                   _events.c.detainer_id, _events.c.occurred_at)
            .where(_events.c.id.in_(sorted({row[4] for row in rows})))
        )
    }  # fmt: skip
    endpoints = {
        row[0]: Endpoint(*row[1:])
        for row in session.execute(
            select(_subscriptions.c.id, _subscriptions.c.id, _subscriptions.c.agency, _subscriptions.c.user_id,
                   _subscriptions.c.url, _subscriptions.c.purpose, _subscriptions.c.secret, _subscriptions.c.status)
            .where(_subscriptions.c.id.in_(list(taken)))
        )
    }  # fmt: skip
    claimed: list[Claimed] = []
    for job_id, raw, sequence, attempts, feed_event_id in rows:
        event, endpoint = events[feed_event_id], endpoints[uuids[raw]]
        claimed.append(Claimed(job_id, endpoint.id, event.arrest_id, sequence, attempts, token, event, endpoint))
    return claimed


def _raw(column: ColumnElement[uuid.UUID]) -> ColumnElement[object]:
    """A UUID column read as the driver gives it, unconverted (SQLite: the text; PostgreSQL: a
    UUID already): for grouping and matching rows, where converting every row costs more than
    the work itself. Compare the values only with others read the same way."""
    return type_coerce(column, _RAW)


_RAW = String()


class _Uuids(dict[object, uuid.UUID]):
    """Raw UUID values (as ``_raw`` reads them), each converted once."""

    def __missing__(self, raw: object) -> uuid.UUID:
        value = self[raw] = raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))
        return value


def _heads(
    session: Session,
    free: Sequence[ColumnElement[bool]],
    *,
    limit: int,
    per_endpoint: int,
    busy: Mapping[uuid.UUID, int],
    uuids: _Uuids,
) -> list[int]:
    """The claim's candidates: the due jobs in claiming order (``next_attempt_at``, ``id``), each
    taken while its subscription has room (``per_endpoint`` less ``busy``), up to ``limit``.

    Read a page at a time along the index on (status, next_attempt_at), and only as far as
    needed: until ``limit`` are taken, or every subscription with a free due job is full (those
    subscriptions are read first, without the per-row test of waiting behind an older job).
    Ranking every pending job by subscription with a window function instead cost a claim in
    proportion to the whole backlog, each round. (The candidates are read in statements of
    their own: as a subquery of the locking statement, PostgreSQL's planner, misled by a table
    whose statistics lag behind a burst of new jobs, ran it once per pending job.)"""
    room = {subscription: per_endpoint - busy.get(subscription, 0) for subscription in busy}
    waiting = set(session.scalars(select(_jobs.c.subscription_id).distinct().where(*free)))
    open_ = {subscription for subscription in waiting if room.get(subscription, per_endpoint) > 0}
    if not open_:
        return []
    conditions = [*free, ~_WAITS_BEHIND]
    full = [subscription for subscription in waiting if subscription not in open_]
    if full:
        conditions.append(_jobs.c.subscription_id.not_in(full))
    page = max(limit, 64)
    chosen: list[int] = []
    after: tuple[datetime, int] | None = None
    while True:
        query = select(_jobs.c.id, _raw(_jobs.c.subscription_id), _jobs.c.next_attempt_at).where(*conditions)
        if after is not None:
            query = query.where(
                or_(
                    _jobs.c.next_attempt_at > after[0],
                    and_(_jobs.c.next_attempt_at == after[0], _jobs.c.id > after[1]),
                )
            )
        rows = session.execute(query.order_by(_jobs.c.next_attempt_at, _jobs.c.id).limit(page)).all()
        for job_id, raw, _ in rows:
            subscription = uuids[raw]
            left = room.get(subscription, per_endpoint)
            if left <= 0:
                continue
            room[subscription] = left - 1
            if left == 1:
                open_.discard(subscription)
            chosen.append(job_id)
            if len(chosen) == limit or not open_:
                return chosen
        if len(rows) < page:
            return chosen
        after = (rows[-1][2], rows[-1][0])


@dataclass(frozen=True)
class Event:
    """The stream event of a claimed job (``FeedEvent``'s columns that a delivery carries)."""

    event_id: uuid.UUID
    type: str
    arrest_id: uuid.UUID
    sequence: int
    detainer_id: uuid.UUID | None
    occurred_at: datetime


@dataclass(frozen=True)
class Endpoint:
    """The subscription of a claimed job, as it stood when the job was claimed."""

    id: uuid.UUID
    agency: str
    user_id: uuid.UUID
    url: str
    purpose: str
    secret: str = field(repr=False)
    status: str


@dataclass(frozen=True)
class Claimed:
    """A job taken under this worker's lease (``lease_token``), with its event and endpoint."""

    id: int
    subscription_id: uuid.UUID
    arrest_id: uuid.UUID
    sequence: int
    attempts: int
    lease_token: str
    event: Event
    subscription: Endpoint


def prepare(
    session: Session, jobs: Sequence[Claimed], *, zone: ZoneInfo, start_by: float = float("inf")
) -> list[Outgoing]:
    """The gate decides each job now (every endpoint's batch in one call, so a record going to
    many endpoints is read and projected once); returns the attempts to make, each to start by
    ``start_by`` (``Outgoing.start_by``). Withheld jobs, and jobs of subscriptions that ended,
    are settled here."""
    instant = now(session)
    by_subscription: dict[uuid.UUID, list[Claimed]] = {}
    for job in jobs:
        by_subscription.setdefault(job.subscription_id, []).append(job)
    groups: list[tuple[Endpoint, list[Claimed]]] = []
    settled: dict[JobStatus, list[int]] = {JobStatus.CANCELLED: [], JobStatus.WITHHELD: []}
    for group in by_subscription.values():
        subscription = group[0].subscription
        if subscription.status != SubscriptionStatus.ACTIVE:
            settled[JobStatus.CANCELLED].extend(job.id for job in group)
            continue
        groups.append((subscription, group))
    batches = [
        gate.FeedBatch(
            subscriber(subscription),
            [feed_item(job.event) for job in group],
            PartnerRequest(purpose=subscription.purpose, case_reference=None, channel=Channel.FEED),
        )
        for subscription, group in groups
    ]
    decided = gate.deliver_many(session, batches, zone=zone) if batches else []
    # One body per event and data: endpoints of one agency under one grant get the same bytes
    # (each signs them with its own secret when it sends).
    bodies: dict[tuple[uuid.UUID, int], bytes] = {}
    outgoing: list[Outgoing] = []
    for (subscription, group), allowed in zip(groups, decided, strict=True):
        for job, data in zip(group, allowed, strict=True):
            if data is None:
                settled[JobStatus.WITHHELD].append(job.id)
                continue
            event = job.event
            key = (event.event_id, id(data))
            body = bodies.get(key)
            if body is None:
                body = bodies[key] = to_json(event, data)
            outgoing.append(
                Outgoing(
                    job_id=job.id,
                    lease_token=job.lease_token,
                    subscription_id=subscription.id,
                    url=subscription.url,
                    secret=subscription.secret,
                    event_id=event.event_id,
                    sequence=job.sequence,
                    type=event.type,
                    attempt=job.attempts + 1,
                    body=body,
                    start_by=start_by,
                )
            )
    for status, ids in settled.items():
        if ids:
            session.execute(
                update(_jobs).where(_jobs.c.id.in_(ids))
                .values(status=status, finished_at=instant, lease_token=None, lease_until=None)
            )  # fmt: skip
    if outgoing:
        session.execute(
            update(_jobs).where(_jobs.c.id.in_([out.job_id for out in outgoing])).values(attempts=_jobs.c.attempts + 1)
        )
    return outgoing


def record(session: Session, results: Sequence[Result], policy: RetryPolicy) -> None:
    """One attempt row per result, and each job settled or rescheduled. A job whose lease was
    taken over meanwhile (this worker was too slow) keeps its new holder's state; a job a
    replay superseded or a deletion cancelled stays as they left it.

    Locks in the one order every writer of these rows uses (``lock_subscription`` first, then
    jobs by id): the subscriptions this batch may disable, then the jobs, by id. Replay and
    deletion take their subscription and then its jobs by id, so they can wait for each other
    but never deadlock.

    Written with a few statements for the whole batch (attempt rows in one insert, `insert_rows`; delivered
    jobs in one update, rescheduled ones in one executemany): a worker records hundreds of
    results per round."""
    if not results:
        return
    instant = now(session)
    closing = sorted({r.outgoing.subscription_id for r in results if r.sent and r.gone})
    if closing:
        session.execute(
            select(_subscriptions.c.id).where(_subscriptions.c.id.in_(closing)).order_by(_subscriptions.c.id)
            .with_for_update(key_share=True)
        )  # fmt: skip
    jobs = {
        job_id: (token, status, attempts)
        for job_id, token, status, attempts in session.execute(
            select(_jobs.c.id, _jobs.c.lease_token, _jobs.c.status, _jobs.c.attempts)
            .where(_jobs.c.id.in_(sorted({r.outgoing.job_id for r in results})))
            .order_by(_jobs.c.id)
            .with_for_update(key_share=True)
        )
    }
    attempts: list[dict[str, object]] = []
    delivered: list[int] = []
    retries: list[dict[str, object]] = []
    unsent: list[int] = []
    gone: list[tuple[int, uuid.UUID, int | None]] = []
    for result in results:
        sent = result.outgoing
        job = jobs.get(sent.job_id)
        mine = job is not None and job[0] == sent.lease_token and job[1] == JobStatus.PENDING
        if not result.sent:
            if mine:
                unsent.append(sent.job_id)
            continue
        attempts.append(
            {"job_id": sent.job_id, "subscription_id": sent.subscription_id, "event_id": sent.event_id,
             "sequence": sent.sequence, "type": sent.type, "attempt": sent.attempt,
             "succeeded": result.succeeded, "status_code": result.status_code, "latency_ms": result.latency_ms,
             "error": None if result.error is None else str(result.error)}
        )  # fmt: skip
        if job is None or not mine:
            continue
        if result.succeeded:
            delivered.append(sent.job_id)
        elif result.gone:
            gone.append((sent.job_id, sent.subscription_id, result.status_code))
        else:
            retries.append({"job": sent.job_id, "next": instant + policy.delay(job[2], result.retry_after)})
    if attempts:
        insert_rows(session, _attempts, attempts, same={"at": instant})
    settled = {"finished_at": instant, "lease_token": None, "lease_until": None}
    if delivered:
        session.execute(update(_jobs).where(_jobs.c.id.in_(delivered)).values(status=JobStatus.DELIVERED, **settled))
    if retries:
        session.execute(
            update(_jobs)
            .where(_jobs.c.id == bindparam("job"))
            .values(lease_token=None, lease_until=None, next_attempt_at=bindparam("next")),
            retries,
        )
    if unsent:  # never attempted: free again at once, the attempt not counted
        session.execute(
            update(_jobs).where(_jobs.c.id.in_(unsent)).values(lease_token=None, lease_until=None,
                                                                 attempts=_jobs.c.attempts - 1)
        )  # fmt: skip
    for job_id, subscription_id, status_code in gone:
        session.execute(update(_jobs).where(_jobs.c.id == job_id).values(status=JobStatus.CANCELLED, **settled))
        subscription = session.get_one(Subscription, subscription_id)
        disable(session, subscription, reason=f"the endpoint answered {status_code} Gone")


def disable(session: Session, subscription: Subscription, *, reason: str) -> None:
    """The endpoint is gone for good: no more attempts to it."""
    if subscription.status != SubscriptionStatus.ACTIVE:
        return
    subscription.status = SubscriptionStatus.DISABLED
    subscription.status_reason = reason
    subscription.ended_at = now(session)
    cancel_pending(session, subscription.id)
    record_event(
        session, SYSTEM, AuditAction.FEED_SUBSCRIPTION_DISABLE, subscription.id,
        {"agency": subscription.agency, "reason": reason},
    )  # fmt: skip


def lock_subscription(session: Session, subscription_id: uuid.UUID) -> Subscription | None:
    """The subscription, locked for a change (``FOR NO KEY UPDATE`` on PostgreSQL, which new
    jobs' foreign keys do not wait for). Whoever changes a subscription's jobs takes this first."""
    return session.get(Subscription, subscription_id, with_for_update={"key_share": True}, populate_existing=True)


def cancel_pending(session: Session, subscription_id: uuid.UUID, *, after: int | None = None) -> int:
    """Cancels the subscription's pending jobs (those after a sequence, when given). The caller
    holds the subscription (``lock_subscription``); the jobs are locked by id, the order
    ``record`` uses."""
    query = select(_jobs.c.id).where(_jobs.c.subscription_id == subscription_id, _jobs.c.status == JobStatus.PENDING)
    if after is not None:
        query = query.where(_jobs.c.sequence > after)
    ids = list(session.scalars(query.order_by(_jobs.c.id).with_for_update(key_share=True)))
    if not ids:
        return 0
    session.execute(
        update(WebhookJob)
        .where(WebhookJob.id.in_(ids))
        .values(status=JobStatus.CANCELLED, finished_at=now(session), lease_token=None, lease_until=None)
        .execution_options(synchronize_session="fetch")
    )
    return len(ids)


def error_category(stored: str | None, status_code: int | None) -> DeliveryError | None:
    """The category an attempt row shows. Rows written before the categories held free text
    (exception messages, which could quote what a receiver answered); they are shown by
    category only, never as stored."""
    if stored is None:
        return None if status_code is not None and 200 <= status_code < 300 else _legacy(None, status_code)
    try:
        return DeliveryError(stored)
    except ValueError:
        return _legacy(stored, status_code)


def _legacy(stored: str | None, status_code: int | None) -> DeliveryError:
    text = (stored or "").lower()
    if status_code is not None or text.startswith("http "):
        return DeliveryError.HTTP_STATUS
    if "timeout" in text or "timed out" in text:
        return DeliveryError.TIMEOUT
    if "refused" in text:
        return DeliveryError.CONNECTION_REFUSED
    if "ssl" in text or "certificate" in text:
        return DeliveryError.TLS_ERROR
    return DeliveryError.CONNECTION_ERROR
