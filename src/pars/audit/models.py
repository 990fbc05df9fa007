"""The audit tables. Entries, checkpoints and disclosures are append-only: nothing in PARS updates
or deletes them, and the database refuses it too (triggers from migration 0002). The one mutable
row is ``audit_head``, which is a lock and a cache, never evidence: verification recomputes
everything from the entries and trusts only the signed checkpoints.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pars.db import Base

# SQLite only has 64-bit integers under the name INTEGER; PostgreSQL gets BIGINT.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntry(Base):
    """One entry of the hash chain (CONTRACT §10).

    ``seq``, ``prev_hash`` and ``hash`` are assigned when the transaction commits (see
    ``audit.chain``), never by the database: the sequence must be gap-free and in commit order,
    which an identity column is not (a rolled-back transaction would burn numbers).
    """

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    agency: Mapped[str | None] = mapped_column(String(16), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(8))
    target: Mapped[str | None] = mapped_column(String(64), index=True)
    details: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The end of the chain, one row (id 1). PostgreSQL writers take it ``FOR UPDATE`` at commit,
    which puts every commit that writes audit entries into one total order; on SQLite the
    ``BEGIN IMMEDIATE`` write lock already does. It also remembers the last checkpoint, so
    deciding whether one is due costs nothing."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(SeqType)
    hash: Mapped[str] = mapped_column(String(64))
    checkpoint_seq: Mapped[int] = mapped_column(SeqType)
    checkpoint_at: Mapped[datetime | None]


class AuditCheckpoint(Base):
    """A signed statement "the trail had ``size`` entries and its last hash was ``head``".

    Once published, it lets anyone prove later that the first ``size`` entries were not
    rewritten: the chain recomputed from them must end in ``head``."""

    __tablename__ = "audit_checkpoints"

    size: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    head: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    # Ed25519, hex: 64 bytes of signature, 32 of public key; key_id = first 16 hex of its SHA-256.
    signature: Mapped[str] = mapped_column(String(128))
    public_key: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))


class Disclosure(Base):
    """One record that left PARS for a partner: the accounting of disclosures (CONTRACT §10).

    The audit entry of the same request holds the same facts for the whole batch; this table
    exists so that "who received this record, or anything about this person" is one indexed
    lookup instead of a scan of every entry's details."""

    __tablename__ = "disclosures"

    id: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    agency: Mapped[str] = mapped_column(String(16), index=True)
    user_id: Mapped[uuid.UUID | None]
    agreement_id: Mapped[uuid.UUID] = mapped_column(index=True)
    agreement_version: Mapped[int]
    purpose: Mapped[str] = mapped_column(String(64))
    case_reference: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    arrest_id: Mapped[uuid.UUID] = mapped_column(index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    fields: Mapped[list[str]]
