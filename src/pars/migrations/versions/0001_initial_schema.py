"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29 00:04:42.588057
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import pars.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ori", sa.String(length=9), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("stakeholder", sa.Boolean(), nullable=False),
        sa.Column("created_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
        sa.UniqueConstraint("code", name=op.f("uq_agencies_code")),
    )
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("agency", sa.String(length=16), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column(
            "details", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_agency"), ["agency"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_target"), ["target"], unique=False)

    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    op.create_table(
        "outbox_events",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=48), nullable=False),
        sa.Column("arrest_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "data", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox_events")),
        sa.UniqueConstraint("id", name=op.f("uq_outbox_events_id")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_events_arrest_id"), ["arrest_id"], unique=False)

    op.create_table(
        "persons",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ppn", sa.String(length=12), nullable=False),
        sa.Column("sid", sa.String(length=32), nullable=True),
        sa.Column("fbi_number", sa.String(length=32), nullable=True),
        sa.Column("created_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("ppn", name=op.f("uq_persons_ppn")),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_persons_fbi_number"), ["fbi_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_persons_sid"), ["sid"], unique=False)

    op.create_table(
        "arrests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tracking_number", sa.String(length=8), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        sa.Column("sealed_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("seal_order_ref", sa.String(length=200), nullable=True),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("middle_name", sa.String(length=200), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("suffix", sa.String(length=200), nullable=True),
        sa.Column("last_key", sa.String(length=200), nullable=False),
        sa.Column("first_key", sa.String(length=200), nullable=True),
        sa.Column(
            "aliases", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("dob", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=32), nullable=True),
        sa.Column("race", sa.String(length=64), nullable=True),
        sa.Column("ethnicity", sa.String(length=64), nullable=True),
        sa.Column("place_of_birth", sa.String(length=200), nullable=True),
        sa.Column("citizenship", sa.String(length=200), nullable=True),
        sa.Column(
            "address", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("ssn", sa.String(length=16), nullable=True),
        sa.Column("sid", sa.String(length=32), nullable=True),
        sa.Column("fbi_number", sa.String(length=32), nullable=True),
        sa.Column("arrested_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("location", sa.String(length=400), nullable=True),
        sa.Column("district", sa.String(length=8), nullable=True),
        sa.Column("incident_number", sa.String(length=32), nullable=True),
        sa.Column("arresting_agency", sa.String(length=16), nullable=True),
        sa.Column("arresting_officer", sa.String(length=32), nullable=True),
        sa.Column("narrative", sa.Text(), nullable=True),
        sa.Column(
            "victims", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "witnesses", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("charging_decision", sa.String(length=16), nullable=True),
        sa.Column("charging_decided_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("docket_number", sa.String(length=32), nullable=True),
        sa.Column("charging_notes", sa.Text(), nullable=True),
        sa.Column("arraigned_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("bail_type", sa.String(length=16), nullable=True),
        sa.Column("bail_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("bail_conditions", sa.Text(), nullable=True),
        sa.Column("next_hearing_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("custody_status", sa.String(length=16), nullable=False),
        sa.Column("facility", sa.String(length=200), nullable=True),
        sa.Column("released_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.String(length=400), nullable=True),
        sa.Column("created_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_arrests_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arrests")),
        sa.UniqueConstraint("docket_number", name=op.f("uq_arrests_docket_number")),
        sa.UniqueConstraint("tracking_number", name=op.f("uq_arrests_tracking_number")),
    )
    with op.batch_alter_table("arrests", schema=None) as batch_op:
        batch_op.create_index("ix_arrests_arrested_at_id", ["arrested_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_arrests_district"), ["district"], unique=False)
        batch_op.create_index(batch_op.f("ix_arrests_incident_number"), ["incident_number"], unique=False)
        batch_op.create_index("ix_arrests_name_key", ["last_key", "first_key", "dob"], unique=False)
        batch_op.create_index(batch_op.f("ix_arrests_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_arrests_sid"), ["sid"], unique=False)
        batch_op.create_index("ix_arrests_status_arrested_at", ["status", "arrested_at"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "roles", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_users_agency_id_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_agency_id"), ["agency_id"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("digest", name=op.f("uq_api_keys_digest")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_user_id"), ["user_id"], unique=False)

    op.create_table(
        "charges",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("arrest_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("title", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=16), nullable=False),
        sa.Column("subsection", sa.String(length=16), nullable=True),
        sa.Column("grade", sa.String(length=4), nullable=False),
        sa.Column("description", sa.String(length=400), nullable=False),
        sa.Column("counts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["arrest_id"], ["arrests.id"], name=op.f("fk_charges_arrest_id_arrests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charges")),
        sa.UniqueConstraint("arrest_id", "sequence", name=op.f("uq_charges_arrest_id")),
    )
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_charges_arrest_id"), ["arrest_id"], unique=False)
        batch_op.create_index("ix_charges_title_section_grade", ["title", "section", "grade"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.drop_index("ix_charges_title_section_grade")
        batch_op.drop_index(batch_op.f("ix_charges_arrest_id"))

    op.drop_table("charges")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_user_id"))

    op.drop_table("api_keys")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_agency_id"))

    op.drop_table("users")
    with op.batch_alter_table("arrests", schema=None) as batch_op:
        batch_op.drop_index("ix_arrests_status_arrested_at")
        batch_op.drop_index(batch_op.f("ix_arrests_sid"))
        batch_op.drop_index(batch_op.f("ix_arrests_person_id"))
        batch_op.drop_index("ix_arrests_name_key")
        batch_op.drop_index(batch_op.f("ix_arrests_incident_number"))
        batch_op.drop_index(batch_op.f("ix_arrests_district"))
        batch_op.drop_index("ix_arrests_arrested_at_id")

    op.drop_table("arrests")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_persons_sid"))
        batch_op.drop_index(batch_op.f("ix_persons_fbi_number"))

    op.drop_table("persons")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_arrest_id"))

    op.drop_table("outbox_events")
    op.drop_table("counters")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_target"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_at"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_agency"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_actor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_action"))

    op.drop_table("audit_entries")
    op.drop_table("agencies")
