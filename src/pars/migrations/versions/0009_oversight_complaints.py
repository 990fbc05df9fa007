"""oversight complaints: complaints about partner agencies, recorded by oversight

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 11:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pars.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oversight_complaints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("complainant", sa.String(length=400), nullable=False),
        sa.Column("received_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("agency", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("outcome_note", sa.Text(), nullable=True),
        sa.Column("recorded_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oversight_complaints")),
    )
    with op.batch_alter_table("oversight_complaints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oversight_complaints_agency"), ["agency"], unique=False)
        batch_op.create_index("ix_oversight_complaints_received", ["received_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oversight_complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_oversight_complaints_received")
        batch_op.drop_index(batch_op.f("ix_oversight_complaints_agency"))
    op.drop_table("oversight_complaints")
