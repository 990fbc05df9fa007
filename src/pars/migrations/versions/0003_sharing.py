"""data sharing: agreements, versions, votes, suspension lift votes, detainer requests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 00:34:50.543052
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import pars.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("suspended_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("suspension_reason", sa.Text(), nullable=True),
        sa.Column("suspension_round", sa.Integer(), nullable=False),
        sa.Column("terminated_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("termination_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_agreements_agency_id_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreements_agency_id"), ["agency_id"], unique=False)

    op.create_table(
        "agreement_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("document_ref", sa.String(length=400), nullable=True),
        sa.Column("effective_from", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "purposes", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "channels", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "fields", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "scope", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("require_case_reference", sa.Boolean(), nullable=False),
        sa.Column("daily_query_limit", sa.Integer(), nullable=True),
        sa.Column("proposed_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"], ["agreements.id"], name=op.f("fk_agreement_versions_agreement_id_agreements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_versions")),
        sa.UniqueConstraint("agreement_id", "version", name=op.f("uq_agreement_versions_agreement_id")),
    )
    with op.batch_alter_table("agreement_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreement_versions_agreement_id"), ["agreement_id"], unique=False)

    op.create_table(
        "detainer_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("arrest_id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column(
            "judicial_warrant",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("document_ref", sa.String(length=400), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notified_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_detainer_requests_agency_id_agencies")),
        sa.ForeignKeyConstraint(["arrest_id"], ["arrests.id"], name=op.f("fk_detainer_requests_arrest_id_arrests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detainer_requests")),
    )
    with op.batch_alter_table("detainer_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_detainer_requests_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_detainer_requests_arrest_id"), ["arrest_id"], unique=False)

    op.create_table(
        "suspension_lift_votes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_suspension_lift_votes_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"], ["agreements.id"], name=op.f("fk_suspension_lift_votes_agreement_id_agreements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suspension_lift_votes")),
        sa.UniqueConstraint("agreement_id", "round", "agency_id", name=op.f("uq_suspension_lift_votes_agreement_id")),
    )
    with op.batch_alter_table("suspension_lift_votes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suspension_lift_votes_agreement_id"), ["agreement_id"], unique=False)

    op.create_table(
        "agreement_votes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("vote", sa.String(length=4), nullable=False),
        sa.Column("at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_agreement_votes_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["version_id"], ["agreement_versions.id"], name=op.f("fk_agreement_votes_version_id_agreement_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_votes")),
        sa.UniqueConstraint("version_id", "agency_id", name=op.f("uq_agreement_votes_version_id")),
    )
    with op.batch_alter_table("agreement_votes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreement_votes_version_id"), ["version_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agreement_votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_votes_version_id"))

    op.drop_table("agreement_votes")
    with op.batch_alter_table("suspension_lift_votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suspension_lift_votes_agreement_id"))

    op.drop_table("suspension_lift_votes")
    with op.batch_alter_table("detainer_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detainer_requests_arrest_id"))
        batch_op.drop_index(batch_op.f("ix_detainer_requests_agency_id"))

    op.drop_table("detainer_requests")
    with op.batch_alter_table("agreement_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_versions_agreement_id"))

    op.drop_table("agreement_versions")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreements_agency_id"))

    op.drop_table("agreements")
