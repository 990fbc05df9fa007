"""The partner's side of the feed: polling its stream, and managing its webhook subscriptions.

A partner only ever sees its own agency's stream and subscriptions; another agency's
subscription is 404, never 403.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import Uuid, func, insert, literal, select
from sqlalchemy.orm import Session

from pars.actors import PartnerActor
from pars.audit import AuditAction, record_event
from pars.clock import now
from pars.db import UTCDateTime
from pars.errors import Conflict, Invalid, NotFound
from pars.feed.delivery import cancel_pending, lock_subscription
from pars.feed.events import feed_item, format_sequence, to_dict
from pars.feed.models import FeedEvent, Subscription, WebhookAttempt, WebhookJob
from pars.feed.schemas import SubscriptionIn
from pars.feed.targets import ForbiddenTarget, Resolver, checked_addresses, parse_address, system_resolver
from pars.feed.vocabulary import JobStatus, SubscriptionStatus
from pars.feed.webhooks import new_secret
from pars.outbox.events import wake_on_commit
from pars.pagination import Page, decode_cursor, encode_cursor, keyset_page
from pars.settings import PrivateTargets
from pars.sharing import gate
from pars.sharing.gate import PartnerRequest
from pars.sharing.grants import grant_in_force

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
MAX_SEQUENCE = 10**20 - 1


def parse_sequence(value: str | None, field: str) -> int:
    """A sequence as partners write it back: digits, zero-padded or not; absent means 0."""
    if value is None or value == "":
        return 0
    value = value.strip()
    if not value.isdigit() or int(value) > MAX_SEQUENCE:
        raise Invalid.one(field, "must be a sequence number of the feed (digits)")
    return int(value)


def poll(
    session: Session, actor: PartnerActor, request: PartnerRequest, *, after: int, limit: int, zone: ZoneInfo
) -> tuple[list[dict[str, Any]], int]:
    """The next ``limit`` events of the caller's stream after ``after``, each decided by the gate
    now; withheld ones are left out (and audited). Returns them and the last sequence examined."""
    assert actor.agency_code is not None
    gate.open_feed(session, actor, request)
    events = list(
        session.scalars(
            select(FeedEvent)
            .where(FeedEvent.agency == actor.agency_code, FeedEvent.sequence > after)
            .order_by(FeedEvent.sequence)
            .limit(limit)
        )
    )
    allowed = gate.deliver(session, actor, [feed_item(e) for e in events], request, zone=zone) if events else []
    items = [to_dict(event, data) for event, data in zip(events, allowed, strict=True) if data is not None]
    record_event(
        session, actor, AuditAction.FEED_READ, None,
        {"after": after, "limit": limit, "examined": len(events), "returned": len(items)},
    )  # fmt: skip
    return items, events[-1].sequence if events else after


def last_sequence(session: Session, agency: str) -> int:
    return session.scalar(select(func.max(FeedEvent.sequence)).where(FeedEvent.agency == agency)) or 0


def check_url(url: str, targets: PrivateTargets, resolve: Resolver = system_resolver) -> str:
    """A URL a webhook may be sent to: https://, or plain http:// to a loopback host; no
    credentials; a host whose addresses ``targets`` all allow (resolved now; the sender checks
    again on every send, after its own resolution)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise Invalid.one("url", "is not a valid URL") from exc
    if parts.scheme not in ("https", "http") or not host:
        raise Invalid.one("url", "must be an https:// URL (plain http:// only to a loopback host)")
    if parts.username or parts.password:
        raise Invalid.one("url", "must not carry credentials")
    if parts.scheme == "http" and not _is_loopback(host):
        raise Invalid.one("url", "plain http:// is allowed only to a loopback host; use https://")
    if targets != PrivateTargets.ALLOW:
        try:
            checked_addresses(host, targets, resolve)
        except ForbiddenTarget as exc:
            what = "public addresses" if targets == PrivateTargets.DENY else "public and loopback addresses"
            raise Invalid.one(
                "url",
                f"the host is or resolves to an address webhooks may not go to (private, loopback, link-local, "
                f"multicast or reserved); this service sends webhooks only to {what}",
            ) from exc
        except (OSError, UnicodeError) as exc:
            raise Invalid.one("url", "the host does not resolve to any address") from exc
    return url


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    address = parse_address(host)
    return address is not None and address.is_loopback


def subscribe(
    session: Session,
    actor: PartnerActor,
    data: SubscriptionIn,
    *,
    targets: PrivateTargets = PrivateTargets.DENY,
    resolve: Resolver = system_resolver,
) -> Subscription:
    """The secret is on the returned row, to be shown once. ``targets``: the setting
    ``PARS_WEBHOOK_PRIVATE_TARGETS`` (the route passes it)."""
    assert actor.agency_code is not None
    url = check_url(data.url.strip(), targets, resolve)
    grant = grant_in_force(session, actor.agency_code, now(session))
    if grant is None or data.purpose not in grant.purposes:
        allowed = ", ".join(sorted(grant.purposes)) if grant else "none: the agency has no agreement in force"
        raise Invalid.one("purpose", f"must be one of the purposes of the agency's agreement in force ({allowed})")
    subscription = Subscription(
        agency=actor.agency_code,
        user_id=actor.user_id,
        url=url,
        purpose=data.purpose,
        secret=new_secret(),
        status=SubscriptionStatus.ACTIVE,
        created_at=now(session),
    )
    session.add(subscription)
    session.flush()
    record_event(session, actor, AuditAction.FEED_SUBSCRIBE, subscription.id, {"url": url, "purpose": data.purpose})
    return subscription


def _own(session: Session, actor: PartnerActor, subscription_id: uuid.UUID, *, lock: bool = False) -> Subscription:
    """The caller's subscription; with ``lock``, locked for a change of it or its jobs (first,
    before any job: the lock order of ``delivery.record``)."""
    subscription = lock_subscription(session, subscription_id) if lock else session.get(Subscription, subscription_id)
    if (
        subscription is None
        or subscription.agency != actor.agency_code
        or subscription.status == SubscriptionStatus.DELETED
    ):
        raise NotFound("no such subscription")
    return subscription


def read_subscription(session: Session, actor: PartnerActor, subscription_id: uuid.UUID) -> Subscription:
    subscription = _own(session, actor, subscription_id)
    record_event(session, actor, AuditAction.FEED_SUBSCRIPTION_READ, subscription.id)
    return subscription


def list_subscriptions(session: Session, actor: PartnerActor, *, limit: int, cursor: str | None) -> Page[Subscription]:
    query = select(Subscription).where(
        Subscription.agency == actor.agency_code, Subscription.status != SubscriptionStatus.DELETED
    )
    page = keyset_page(session, query, at=Subscription.created_at, ident=Subscription.id, limit=limit, cursor=cursor)
    record_event(session, actor, AuditAction.FEED_SUBSCRIPTION_READ, None, {"results": len(page.items)})
    return page


def delete_subscription(session: Session, actor: PartnerActor, subscription_id: uuid.UUID) -> None:
    subscription = _own(session, actor, subscription_id, lock=True)
    subscription.status = SubscriptionStatus.DELETED
    subscription.ended_at = now(session)
    cancelled = cancel_pending(session, subscription.id)
    record_event(session, actor, AuditAction.FEED_UNSUBSCRIBE, subscription.id, {"cancelled": cancelled})


def attempts(
    session: Session,
    actor: PartnerActor,
    subscription_id: uuid.UUID,
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> Page[WebhookAttempt]:
    """Newest first; ``status`` ``failed`` or ``succeeded`` filters."""
    subscription = _own(session, actor, subscription_id)
    query = select(WebhookAttempt).where(WebhookAttempt.subscription_id == subscription.id)
    if status is not None:
        if status not in ("failed", "succeeded"):
            raise Invalid.one("status", "must be failed or succeeded")
        query = query.where(WebhookAttempt.succeeded.is_(status == "succeeded"))
    if cursor is not None:
        key = decode_cursor(cursor)
        if len(key) != 1 or not isinstance(key[0], int):
            raise Invalid.one("cursor", "is not one this service returned")
        query = query.where(WebhookAttempt.id < key[0])
    rows = list(session.scalars(query.order_by(WebhookAttempt.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    record_event(
        session, actor, AuditAction.FEED_SUBSCRIPTION_READ, subscription.id, {"deliveries": len(rows), "status": status}
    )
    return Page(rows, encode_cursor([rows[-1].id]) if more else None)


def replay(session: Session, actor: PartnerActor, subscription_id: uuid.UUID, *, after: int) -> int:
    """Queues every event of the agency's stream after ``after`` for this endpoint again; each
    still passes the gate when sent. Pending jobs after that point are superseded (cancelled),
    so no event is in the queue twice. Returns how many were queued.

    The subscription is locked first, so two replays (or a replay and a deletion) of one
    subscription run one after the other, and the jobs after it by id, as the worker does."""
    subscription = _own(session, actor, subscription_id, lock=True)
    if subscription.status != SubscriptionStatus.ACTIVE:
        raise Conflict(f"the subscription is {subscription.status}: {subscription.status_reason}")
    cancel_pending(session, subscription.id, after=after)
    instant = now(session)
    columns = ["subscription_id", "feed_event_id", "arrest_id", "sequence", "status", "attempts", "next_attempt_at",
               "created_at"]  # fmt: skip
    source = select(
        literal(subscription.id, Uuid()),
        FeedEvent.id,
        FeedEvent.arrest_id,
        FeedEvent.sequence,
        literal(str(JobStatus.PENDING)),
        literal(0),
        literal(instant, UTCDateTime()),
        literal(instant, UTCDateTime()),
    ).where(FeedEvent.agency == subscription.agency, FeedEvent.sequence > after)
    queued = len(session.execute(insert(WebhookJob).from_select(columns, source).returning(WebhookJob.id)).all())
    record_event(
        session, actor, AuditAction.FEED_REPLAY, subscription.id, {"after": format_sequence(after), "queued": queued}
    )
    if queued:
        wake_on_commit(session)
    return queued
