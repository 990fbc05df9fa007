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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, bindparam, exists, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from pars.audit import AuditAction, record_event
from pars.auth.permissions import Role
from pars.auth.principal import SYSTEM, Actor
from pars.clock import now
from pars.feed.events import feed_item, to_json
from pars.feed.models import Subscription, WebhookAttempt, WebhookJob
from pars.feed.vocabulary import JobStatus, SubscriptionStatus
from pars.feed.webhooks import Outgoing, Result
from pars.sharing import gate
from pars.sharing.gate import PartnerRequest
from pars.sharing.vocabulary import Channel

# Core tables: recording a batch writes plain rows, without the ORM's per-object work.
_jobs = cast(Table, WebhookJob.__table__)
_attempts = cast(Table, WebhookAttempt.__table__)


@dataclass(frozen=True)
class RetryPolicy:
    schedule: tuple[timedelta, ...]

    def delay(self, attempts: int, asked: timedelta | None) -> timedelta:
        """After the ``attempts``-th failed attempt. The schedule's last delay repeats. A
        receiver's Retry-After is honoured up to the longest delay of the schedule."""
        if asked is not None:
            return min(max(asked, timedelta(seconds=1)), max(self.schedule))
        return self.schedule[min(max(attempts, 1), len(self.schedule)) - 1]


def subscriber(subscription: Subscription) -> Actor:
    """Deliveries to an endpoint are disclosures to its agency, made for the partner user who
    registered it, under the purpose it gave."""
    return Actor(
        user_id=subscription.user_id,
        agency_code=subscription.agency,
        agency_kind="partner",
        roles=frozenset({Role.PARTNER}),
        name="webhook subscription",
    )


def claim(session: Session, *, lease: timedelta, limit: int) -> list[WebhookJob]:
    """Takes up to ``limit`` due jobs, each the oldest pending one of its (subscription, arrest),
    under a new lease token."""
    instant = now(session)
    older = aliased(WebhookJob)
    waits_behind = exists().where(
        older.subscription_id == WebhookJob.subscription_id,
        older.arrest_id == WebhookJob.arrest_id,
        older.status == JobStatus.PENDING,
        or_(
            older.sequence < WebhookJob.sequence, and_(older.sequence == WebhookJob.sequence, older.id < WebhookJob.id)
        ),
    )
    due = (
        select(WebhookJob.id)
        .where(
            WebhookJob.status == JobStatus.PENDING,
            WebhookJob.next_attempt_at <= instant,
            or_(WebhookJob.lease_until.is_(None), WebhookJob.lease_until <= instant),
            ~waits_behind,
        )
        .order_by(WebhookJob.next_attempt_at, WebhookJob.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookJob)
    )
    ids = list(session.scalars(due))
    if not ids:
        return []
    token = uuid.uuid4().hex
    session.execute(
        update(WebhookJob)
        .where(WebhookJob.id.in_(ids))
        .values(lease_token=token, lease_until=instant + lease)
        .execution_options(synchronize_session=False)
    )
    query = select(WebhookJob).where(WebhookJob.id.in_(ids)).order_by(WebhookJob.id)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def prepare(session: Session, jobs: Sequence[WebhookJob], *, zone: ZoneInfo) -> list[Outgoing]:
    """The gate decides each job now; returns the attempts to make. Withheld jobs, and jobs of
    subscriptions that ended, are settled here."""
    instant = now(session)
    by_subscription: dict[uuid.UUID, list[WebhookJob]] = {}
    for job in jobs:
        by_subscription.setdefault(job.subscription_id, []).append(job)
    outgoing: list[Outgoing] = []
    for group in by_subscription.values():
        subscription = group[0].subscription
        if subscription.status != SubscriptionStatus.ACTIVE:
            for job in group:
                _settle(job, JobStatus.CANCELLED, instant)
            continue
        request = PartnerRequest(purpose=subscription.purpose, case_reference=None, channel=Channel.FEED)
        allowed = gate.deliver(
            session, subscriber(subscription), [feed_item(job.event) for job in group], request, zone=zone
        )
        for job, data in zip(group, allowed, strict=True):
            if data is None:
                _settle(job, JobStatus.WITHHELD, instant)
                continue
            job.attempts += 1
            outgoing.append(
                Outgoing(
                    job_id=job.id,
                    lease_token=job.lease_token or "",
                    subscription_id=subscription.id,
                    url=subscription.url,
                    secret=subscription.secret,
                    event_id=job.event.event_id,
                    sequence=job.sequence,
                    type=job.event.type,
                    attempt=job.attempts,
                    body=to_json(job.event, data),
                )
            )
    session.flush()
    return outgoing


def record(session: Session, results: Sequence[Result], policy: RetryPolicy) -> None:
    """One attempt row per result, and each job settled or rescheduled. A job whose lease was
    taken over meanwhile (this worker was too slow) keeps its new holder's state.

    Written with a few statements for the whole batch (attempt rows in one insert, delivered
    jobs in one update, rescheduled ones in one executemany): a worker records hundreds of
    results per round."""
    if not results:
        return
    instant = now(session)
    jobs = {
        job_id: (token, status, attempts)
        for job_id, token, status, attempts in session.execute(
            select(_jobs.c.id, _jobs.c.lease_token, _jobs.c.status, _jobs.c.attempts)
            .where(_jobs.c.id.in_([r.outgoing.job_id for r in results]))
            .with_for_update()
        )
    }
    attempts: list[dict[str, object]] = []
    delivered: list[int] = []
    retries: list[dict[str, object]] = []
    gone: list[tuple[int, uuid.UUID, int | None]] = []
    for result in results:
        sent = result.outgoing
        attempts.append(
            {"job_id": sent.job_id, "subscription_id": sent.subscription_id, "event_id": sent.event_id,
             "sequence": sent.sequence, "type": sent.type, "attempt": sent.attempt, "at": instant,
             "succeeded": result.succeeded, "status_code": result.status_code, "latency_ms": result.latency_ms,
             "error": result.error}
        )  # fmt: skip
        job = jobs.get(sent.job_id)
        if job is None or job[0] != sent.lease_token or job[1] != JobStatus.PENDING:
            continue
        if result.succeeded:
            delivered.append(sent.job_id)
        elif result.gone:
            gone.append((sent.job_id, sent.subscription_id, result.status_code))
        else:
            retries.append({"job": sent.job_id, "next": instant + policy.delay(job[2], result.retry_after)})
    session.execute(insert(_attempts), attempts)
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
    for job_id, subscription_id, status_code in gone:
        session.execute(update(_jobs).where(_jobs.c.id == job_id).values(status=JobStatus.CANCELLED, **settled))
        subscription = session.get_one(Subscription, subscription_id)
        disable(session, subscription, reason=f"the endpoint answered {status_code} Gone")


def _settle(job: WebhookJob, status: JobStatus, instant: datetime) -> None:
    job.status, job.finished_at = status, instant
    job.lease_token, job.lease_until = None, None


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


def cancel_pending(session: Session, subscription_id: uuid.UUID, *, after: int | None = None) -> int:
    """Cancels the subscription's pending jobs (those after a sequence, when given)."""
    query = update(WebhookJob).where(
        WebhookJob.subscription_id == subscription_id, WebhookJob.status == JobStatus.PENDING
    )
    if after is not None:
        query = query.where(WebhookJob.sequence > after)
    result = session.execute(
        query.values(
            status=JobStatus.CANCELLED, finished_at=now(session), lease_token=None, lease_until=None
        ).execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)
