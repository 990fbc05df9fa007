"""oversight: alerts, the detectors' tallies and their cursor over the audit trail

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 01:24:33.690632
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import pars.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oversight_alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=48), nullable=False),
        sa.Column("agency", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("window_start", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column(
            "evidence", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "details", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("raised_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.Uuid(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("review_outcome", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oversight_alerts")),
        sa.UniqueConstraint("key", name=op.f("uq_oversight_alerts_key")),
    )
    with op.batch_alter_table("oversight_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oversight_alerts_agency"), ["agency"], unique=False)
        batch_op.create_index(batch_op.f("ix_oversight_alerts_rule"), ["rule"], unique=False)
        batch_op.create_index("ix_oversight_alerts_window", ["window_start", "id"], unique=False)

    op.create_table(
        "oversight_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("updated_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_oversight_cursor")),
    )
    op.create_table(
        "oversight_tallies",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=48), nullable=False),
        sa.Column("agency", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=36), nullable=False),
        sa.Column("window_start", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column(
            "evidence", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "data", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_oversight_tallies")),
    )
    with op.batch_alter_table("oversight_tallies", schema=None) as batch_op:
        batch_op.create_index(
            "ix_oversight_tallies_subject", ["rule", "agency", "subject", "window_start"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("oversight_tallies", schema=None) as batch_op:
        batch_op.drop_index("ix_oversight_tallies_subject")

    op.drop_table("oversight_tallies")
    op.drop_table("oversight_cursor")
    with op.batch_alter_table("oversight_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_oversight_alerts_window")
        batch_op.drop_index(batch_op.f("ix_oversight_alerts_rule"))
        batch_op.drop_index(batch_op.f("ix_oversight_alerts_agency"))

    op.drop_table("oversight_alerts")
