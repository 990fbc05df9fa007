"""The feed's tables (CONTRACT §9).

- ``feed_streams``: one row per partner agency, the last sequence number drawn for its stream.
- ``feed_events``: each partner's stream. One row per (outbox event, partner) that was due when
  the event was fanned out; it holds ids, never record content: the gate projects the record
  each time the event is sent or read.
- ``feed_subscriptions``: a partner's webhook endpoints.
- ``webhook_jobs``: one row per (subscription, stream event) still to send or already settled;
  the worker claims them with a lease.
- ``webhook_attempts``: one row per HTTP attempt, with its status code, latency and error.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pars.db import Base

# SQLite only auto-increments a column typed INTEGER; PostgreSQL gets BIGINT.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class FeedStream(Base):
    """The per-partner sequence counter. Incremented with UPDATE … RETURNING by the one fan-out
    at a time, so a partner's sequence numbers never repeat and follow the order of fan-out."""

    __tablename__ = "feed_streams"

    agency: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_sequence: Mapped[int] = mapped_column(BigInteger)


class FeedEvent(Base):
    """One event of one partner's stream.

    ``event_id`` is drawn at random for each partner, so two agencies that received the same
    change cannot match their event ids to each other; it is the CloudEvent ``id`` and the
    ``webhook-id`` of every attempt to send it."""

    __tablename__ = "feed_events"
    __table_args__ = (
        UniqueConstraint("agency", "sequence"),
        Index("ix_feed_events_agency_arrest_id", "agency", "arrest_id"),
    )

    id: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    outbox_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    type: Mapped[str] = mapped_column(String(48))
    arrest_id: Mapped[uuid.UUID]
    # Set on release notices only: the detainer request that earned the notice.
    detainer_id: Mapped[uuid.UUID | None]
    occurred_at: Mapped[datetime]
    created_at: Mapped[datetime]


class Subscription(Base):
    """A partner's webhook endpoint.

    The secret is stored as given out, not hashed: the service must compute an HMAC with it for
    every delivery (Standard Webhooks), and a hash cannot sign. It never leaves again after the
    creation response."""

    __tablename__ = "feed_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    agency: Mapped[str] = mapped_column(String(16), index=True)
    user_id: Mapped[uuid.UUID | None]
    url: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(64))
    secret: Mapped[str] = mapped_column(String(128))
    # active | disabled (the endpoint answered 410) | deleted (by the partner)
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class WebhookJob(Base):
    """One stream event to send to one subscription.

    ``status``: pending (to send, maybe after a failed attempt), delivered (a 2xx came back),
    withheld (the gate refused it at send time), cancelled (the subscription ended or a replay
    superseded it). ``arrest_id`` and ``sequence`` are copied from the stream event so that the
    claim can pick, per (subscription, arrest), only the oldest pending job."""

    __tablename__ = "webhook_jobs"
    __table_args__ = (
        Index("ix_webhook_jobs_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_jobs_line", "subscription_id", "arrest_id", "status", "sequence"),
    )

    id: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("feed_subscriptions.id"))
    feed_event_id: Mapped[int] = mapped_column(SeqType, ForeignKey("feed_events.id"), index=True)
    arrest_id: Mapped[uuid.UUID]
    sequence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    # Who holds the job and until when; a lease that has run out is free again (a crashed worker).
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]

    subscription: Mapped[Subscription] = relationship(lazy="joined", innerjoin=True)
    event: Mapped[FeedEvent] = relationship(lazy="joined", innerjoin=True)


class WebhookAttempt(Base):
    """One HTTP attempt: what a partner sees under /subscriptions/{id}/deliveries."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_subscription_id_id", "subscription_id", "id"),)

    id: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(SeqType, ForeignKey("webhook_jobs.id"), index=True)
    subscription_id: Mapped[uuid.UUID]
    event_id: Mapped[uuid.UUID]
    sequence: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(48))
    attempt: Mapped[int]
    at: Mapped[datetime]
    succeeded: Mapped[bool]
    status_code: Mapped[int | None]
    latency_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(Text)
