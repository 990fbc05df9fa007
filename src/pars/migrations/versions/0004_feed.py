"""feed: partner streams, subscriptions, webhook jobs and attempts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 01:09:16.151596

Outbox events get ``fanned_out_at``. Events written before this revision stay unmarked, so the
first worker fans them out into the partners' streams under the agreements in force then; no
webhook job is made for them, since every subscription is newer than they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pars.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("agency", sa.String(length=16), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("outbox_seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=48), nullable=False),
        sa.Column("arrest_id", sa.Uuid(), nullable=False),
        sa.Column("detainer_id", sa.Uuid(), nullable=True),
        sa.Column("occurred_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_events")),
        sa.UniqueConstraint("agency", "sequence", name=op.f("uq_feed_events_agency")),
        sa.UniqueConstraint("event_id", name=op.f("uq_feed_events_event_id")),
    )
    with op.batch_alter_table("feed_events", schema=None) as batch_op:
        batch_op.create_index("ix_feed_events_agency_arrest_id", ["agency", "arrest_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feed_events_outbox_seq"), ["outbox_seq"], unique=False)

    op.create_table(
        "feed_streams",
        sa.Column("agency", sa.String(length=16), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("agency", name=op.f("pk_feed_streams")),
    )
    op.create_table(
        "feed_subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agency", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("created_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_subscriptions")),
    )
    with op.batch_alter_table("feed_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feed_subscriptions_agency"), ["agency"], unique=False)

    op.create_table(
        "webhook_jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("feed_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("arrest_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_token", sa.String(length=64), nullable=True),
        sa.Column("lease_until", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["feed_event_id"], ["feed_events.id"], name=op.f("fk_webhook_jobs_feed_event_id_feed_events")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["feed_subscriptions.id"],
            name=op.f("fk_webhook_jobs_subscription_id_feed_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_jobs")),
    )
    with op.batch_alter_table("webhook_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_jobs_feed_event_id"), ["feed_event_id"], unique=False)
        batch_op.create_index(
            "ix_webhook_jobs_line", ["subscription_id", "arrest_id", "status", "sequence"], unique=False
        )
        batch_op.create_index("ix_webhook_jobs_status_next_attempt_at", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=48), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["webhook_jobs.id"], name=op.f("fk_webhook_attempts_job_id_webhook_jobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_attempts_job_id"), ["job_id"], unique=False)
        batch_op.create_index("ix_webhook_attempts_subscription_id_id", ["subscription_id", "id"], unique=False)

    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fanned_out_at", pars.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_outbox_events_pending", ["fanned_out_at", "seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_events_pending")
        batch_op.drop_column("fanned_out_at")

    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_attempts_subscription_id_id")
        batch_op.drop_index(batch_op.f("ix_webhook_attempts_job_id"))

    op.drop_table("webhook_attempts")
    with op.batch_alter_table("webhook_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_jobs_status_next_attempt_at")
        batch_op.drop_index("ix_webhook_jobs_line")
        batch_op.drop_index(batch_op.f("ix_webhook_jobs_feed_event_id"))

    op.drop_table("webhook_jobs")
    with op.batch_alter_table("feed_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_subscriptions_agency"))

    op.drop_table("feed_subscriptions")
    op.drop_table("feed_streams")
    with op.batch_alter_table("feed_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_events_outbox_seq"))
        batch_op.drop_index("ix_feed_events_agency_arrest_id")

    op.drop_table("feed_events")
