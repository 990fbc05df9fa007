"""Fan-out: outbox events become events of each partner's stream, and webhook jobs.

For every outbox event, oldest first:

- each partner whose agreement in force allows the ``feed`` channel, and whose scope holds the
  record now, gets the event in its stream (the gate says who: ``gate.feed_audience``);
- each such partner whose scope no longer holds the record (sealed, or a change took it out),
  but which received the record since its last withdrawal, gets ``pars.arrest.withdrawn``;
- a release also owes a ``pars.release_notice`` to each agency with an accepted detainer
  request for that arrest, and only to it, with or without an agreement (CONTRACT §8).

Being due is not being sent: the gate decides again, and projects, when the event is sent.

Only one fan-out runs at a time (a transaction-scoped advisory lock on PostgreSQL; the write
lock on SQLite). With that, a partner's sequence numbers follow the outbox order, and since two
steps on one arrest are serialised by its row lock, one arrest's events keep the order in which
they happened. Each outbox event is marked when fanned out, in the same transaction, so a crash
either fans it out completely or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, case, func, insert, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pars.audit.models import Disclosure
from pars.clock import now
from pars.feed.models import FeedEvent, FeedStream, Subscription, WebhookJob
from pars.feed.rows import insert_rows
from pars.feed.vocabulary import JobStatus, SubscriptionStatus
from pars.outbox.events import EventType, OutboxEvent, wake_on_commit
from pars.sharing import gate
from pars.sharing.detainers import accepted_for_release

BATCH = 500
_events = cast(Table, FeedEvent.__table__)
_jobs = cast(Table, WebhookJob.__table__)
_subscriptions = cast(Table, Subscription.__table__)
# Any constant will do; it names the fan-out among PostgreSQL advisory locks.
_FANOUT_LOCK = 0x70617273_66656564


@dataclass(frozen=True)
class _Due:
    agency: str
    event: OutboxEvent
    type: str
    detainer_id: uuid.UUID | None = None


def fan_out(session: Session, *, limit: int = BATCH) -> int:
    """Fans out up to ``limit`` waiting outbox events; returns how many it took (0 when none
    waits, or when another worker is fanning out right now)."""
    if not _take_lock(session):
        return 0
    events = session.scalars(
        select(OutboxEvent).where(OutboxEvent.fanned_out_at.is_(None)).order_by(OutboxEvent.seq).limit(limit)
    ).all()
    if not events:
        return 0
    instant = now(session)
    arrest_ids = {event.arrest_id for event in events}
    audience = gate.feed_audience(session, arrest_ids)
    holders = _holders(session, arrest_ids, [partner.agency for partner in audience])
    due: list[_Due] = []
    for event in events:
        for partner in audience:
            key = (partner.agency, event.arrest_id)
            if event.arrest_id in partner.in_scope:
                if event.type != EventType.WITHDRAWN:
                    due.append(_Due(partner.agency, event, event.type))
            elif key in holders:
                due.append(_Due(partner.agency, event, EventType.WITHDRAWN))
                holders.discard(key)  # one withdrawal is enough
        if event.type == EventType.RELEASED:
            for detainer in accepted_for_release(session, event.arrest_id):
                if detainer.notified_at is None:
                    due.append(_Due(detainer.agency.code, event, EventType.RELEASE_NOTICE, detainer.id))
                    detainer.notified_at = instant
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.seq.in_([event.seq for event in events]))
        .values(fanned_out_at=instant)
        .execution_options(synchronize_session=False)
    )
    if due:
        _append(session, due, instant)
        wake_on_commit(session)
    session.flush()
    return len(events)


def _take_lock(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # BEGIN IMMEDIATE: this transaction already holds the one write lock
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _FANOUT_LOCK}))


def _holders(session: Session, arrest_ids: Collection[uuid.UUID], agencies: list[str]) -> set[tuple[str, uuid.UUID]]:
    """(agency, arrest) pairs where the partner received the record (by any channel) after the
    last withdrawal it was sent for it: those are owed a withdrawal if the record leaves."""
    if not agencies:
        return set()
    ids = list(arrest_ids)
    received = session.execute(
        select(Disclosure.agency, Disclosure.arrest_id, func.max(Disclosure.at))
        .where(Disclosure.arrest_id.in_(ids), Disclosure.agency.in_(agencies))
        .group_by(Disclosure.agency, Disclosure.arrest_id)
    ).all()
    withdrawn = {
        (agency, arrest_id): at
        for agency, arrest_id, at in session.execute(
            select(FeedEvent.agency, FeedEvent.arrest_id, func.max(FeedEvent.created_at))
            .where(FeedEvent.arrest_id.in_(ids), FeedEvent.agency.in_(agencies), FeedEvent.type == EventType.WITHDRAWN)
            .group_by(FeedEvent.agency, FeedEvent.arrest_id)
        )
    }
    return {
        (agency, arrest_id)
        for agency, arrest_id, at in received
        if (agency, arrest_id) not in withdrawn or withdrawn[(agency, arrest_id)] < at
    }


def _append(session: Session, due: Sequence[_Due], instant: datetime) -> None:
    """Draws each partner's next sequence numbers, adds the stream events, and a webhook job for
    each active subscription that existed when the event happened (a new subscription starts
    with events made after it). Plain inserts for the whole batch, no ORM objects: a fan-out
    writes one row per partner and event, and one per endpoint."""
    counts: dict[str, int] = {}
    for item in due:
        counts[item.agency] = counts.get(item.agency, 0) + 1
    next_sequence = {agency: draw_sequences(session, agency, count) for agency, count in counts.items()}
    rows: list[dict[str, Any]] = []
    for item in due:
        sequence = next_sequence[item.agency]
        next_sequence[item.agency] += 1
        rows.append(
            {"agency": item.agency, "sequence": sequence, "event_id": uuid.uuid4(), "outbox_seq": item.event.seq,
             "type": str(item.type), "arrest_id": item.event.arrest_id, "detainer_id": item.detainer_id,
             "occurred_at": item.event.occurred_at, "created_at": instant}
        )  # fmt: skip
    # The columns the jobs need, read as they always were (their order here orders the jobs).
    subscriptions = [
        subscription_id
        for subscription_id, _, _ in session.execute(
            select(Subscription.id, Subscription.agency, Subscription.created_at).where(
                Subscription.agency.in_(list(counts)), Subscription.status == SubscriptionStatus.ACTIVE
            )
        )
    ]
    if not subscriptions:
        insert_rows(session, _events, rows)
        return
    returned = insert_rows(session, _events, rows, returning=_events.c.id)
    assert returned is not None
    # The jobs in one INSERT … SELECT: no row of them passes through Python. Their ids follow
    # the stream events' order, and within an event the order in which the query above gave
    # the subscriptions (the claim takes jobs by id).
    place = case({subscription_id: n for n, subscription_id in enumerate(subscriptions)}, value=_subscriptions.c.id)
    source = (
        select(_subscriptions.c.id, _events.c.id, _events.c.arrest_id, _events.c.sequence,
               literal(JobStatus.PENDING, _jobs.c.status.type), literal(0),
               literal(instant, _jobs.c.next_attempt_at.type), literal(instant, _jobs.c.created_at.type))
        .select_from(_events)
        .join(_subscriptions, _subscriptions.c.agency == _events.c.agency)
        .where(_events.c.id.in_(list(returned.scalars())), _subscriptions.c.id.in_(subscriptions),
               _subscriptions.c.created_at <= _events.c.occurred_at)
        .order_by(_events.c.id, place)
    )  # fmt: skip
    columns = ["subscription_id", "feed_event_id", "arrest_id", "sequence", "status", "attempts", "next_attempt_at",
               "created_at"]  # fmt: skip
    session.execute(insert(_jobs).from_select(columns, source))


def draw_sequences(session: Session, agency: str, count: int) -> int:
    """Reserves ``count`` consecutive sequence numbers of the agency's stream; returns the first."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(FeedStream).values(agency=agency, last_sequence=0).on_conflict_do_nothing())
    last = session.execute(
        update(FeedStream)
        .where(FeedStream.agency == agency)
        .values(last_sequence=FeedStream.last_sequence + count)
        .returning(FeedStream.last_sequence)
    ).scalar_one()
    return int(last) - count + 1
