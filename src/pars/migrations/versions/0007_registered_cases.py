"""registered cases and their subjects; the agreement term require_registered_case

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 23:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pars.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registered_cases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("opened_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("subject_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_registered_cases_agency_id_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registered_cases")),
        sa.UniqueConstraint("agency_id", "reference", name=op.f("uq_registered_cases_agency_id")),
    )
    op.create_table(
        "case_subjects",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("shape", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["registered_cases.id"], name=op.f("fk_case_subjects_case_id_registered_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_subjects")),
    )
    with op.batch_alter_table("case_subjects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_subjects_case_id"), ["case_id"], unique=False)
    # Existing versions did not require registered cases: false for them, as for a new default.
    with op.batch_alter_table("agreement_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("require_registered_case", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("agreement_versions", schema=None) as batch_op:
        batch_op.drop_column("require_registered_case")
    with op.batch_alter_table("case_subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_subjects_case_id"))
    op.drop_table("case_subjects")
    op.drop_table("registered_cases")
