"""audit trail: hash chain, checkpoints, disclosures, key lockout

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 00:33:42.834828

Entries written before this revision have no hashes: they are renumbered 1..N in their order
(0001 numbered them with an identity column, which leaves gaps after rollbacks) and chained, so
an upgraded database verifies like a new one. From here on PARS assigns ``seq`` itself.

The trail tables refuse UPDATE, DELETE and TRUNCATE with triggers. On SQLite a later migration
that rebuilds ``audit_entries``, ``audit_checkpoints`` or ``disclosures`` in batch mode drops the
table's triggers with the old table and must create them again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import pars.db
from pars.audit.canonical import GENESIS, entry_hash, instant_text, plain_details

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SeqType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
APPEND_ONLY = ("audit_entries", "audit_checkpoints", "disclosures")


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("size", SeqType, autoincrement=False, nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.Column("at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", SeqType, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("checkpoint_seq", SeqType, nullable=False),
        sa.Column("checkpoint_at", pars.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "disclosures",
        sa.Column("id", SeqType, autoincrement=True, nullable=False),
        sa.Column("at", pars.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("agency", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("agreement_version", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("case_reference", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("arrest_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("fields", JSONType, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosures")),
    )
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disclosures_agency"), ["agency"], unique=False)
        batch_op.create_index(batch_op.f("ix_disclosures_agreement_id"), ["agreement_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_disclosures_arrest_id"), ["arrest_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_disclosures_person_id"), ["person_id"], unique=False)

    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("first_used_at", pars.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failures", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("locked_until", pars.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_api_keys_key_id"), ["key_id"])

    _chain_existing_entries()
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_entries ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS audit_entries_seq_seq")
    _create_guards()


def _chain_existing_entries() -> None:
    entries = sa.table(
        "audit_entries",
        sa.column("seq", SeqType),
        sa.column("at", pars.db.UTCDateTime()),
        sa.column("actor_id", sa.Uuid()),
        sa.column("agency", sa.String()),
        sa.column("action", sa.String()),
        sa.column("outcome", sa.String()),
        sa.column("target", sa.String()),
        sa.column("details", JSONType),
        sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(entries).order_by(entries.c.seq)).mappings().all()
    prev = GENESIS
    for number, row in enumerate(rows, start=1):
        details = plain_details(row["details"])
        digest = entry_hash(
            seq=number,
            at=instant_text(row["at"]),
            actor=row["actor_id"],
            agency=row["agency"],
            action=row["action"],
            outcome=row["outcome"],
            target=row["target"],
            details=details,
            prev_hash=prev,
        )
        bind.execute(
            entries.update()
            .where(entries.c.seq == row["seq"])
            .values(seq=number, details=details, prev_hash=prev, hash=digest)
        )
        prev = digest
    head = sa.table(
        "audit_head",
        sa.column("id", sa.Integer()),
        sa.column("seq", SeqType),
        sa.column("hash", sa.String()),
        sa.column("checkpoint_seq", SeqType),
    )
    bind.execute(head.insert().values(id=1, seq=len(rows), hash=prev, checkpoint_seq=0))


def _create_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION pars_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'PARS: % on % refused: the audit trail is append-only', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION pars_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION pars_append_only()"
            )
        return
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'PARS: {verb} on {table} refused: the audit trail is append-only'); END"
            )


def _drop_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS pars_append_only()")
        return
    for table in APPEND_ONLY:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")


def downgrade() -> None:
    _drop_guards()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE audit_entries_seq_seq OWNED BY audit_entries.seq")
        op.execute(
            "SELECT setval('audit_entries_seq_seq', COALESCE((SELECT max(seq) FROM audit_entries), 0) + 1, false)"
        )
        op.execute("ALTER TABLE audit_entries ALTER COLUMN seq SET DEFAULT nextval('audit_entries_seq_seq')")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)

    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_api_keys_key_id"), type_="unique")
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failures")
        batch_op.drop_column("first_used_at")
        batch_op.drop_column("key_id")

    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosures_person_id"))
        batch_op.drop_index(batch_op.f("ix_disclosures_arrest_id"))
        batch_op.drop_index(batch_op.f("ix_disclosures_agreement_id"))
        batch_op.drop_index(batch_op.f("ix_disclosures_agency"))
    op.drop_table("disclosures")
    op.drop_table("audit_head")
    op.drop_table("audit_checkpoints")
