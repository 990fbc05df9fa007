"""Chaining at commit.

``record_event`` only *stages* an entry on the session. When the session commits, the
``before_commit`` hook below takes the head of the chain under a lock, numbers the staged entries
consecutively, hashes each over its predecessor, inserts them and moves the head, all inside the
committing transaction. So:

- the lock is held only for the commit, not for the whole request;
- sequence numbers are gap-free and in commit order: a transaction that rolls back never took
  one (its staged entries are dropped by the rollback hook);
- every caller stays unchanged: the chain is the business of this module alone.

The lock is the one ``audit_head`` row read ``FOR UPDATE`` on PostgreSQL, which serialises
committing writers across threads and processes. On SQLite every transaction of PARS starts
with ``BEGIN IMMEDIATE`` (see ``pars.db``), so a commit already holds the database's one write
lock and ``FOR UPDATE`` is not needed (SQLAlchemy leaves it out there).

The accounting of disclosures (``pars.audit.disclosures``) rides on the same commit: its rows are
staged here beside the entries that account for them and written by the seal, on PostgreSQL in
the seal's own statement, so that a partner's request costs no round trip more for them. A
savepoint or transaction that rolls back drops them with its entries.

The hooks are registered on the ``Session`` class once, when this module is imported; any
session that never stages an entry pays one dictionary lookup per commit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Insert, String, Table, bindparam, event, insert, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction

from pars.audit.canonical import GENESIS, checkpoint_message, details_json, encode_entry, instant_text
from pars.audit.models import AuditCheckpoint, AuditEntry, AuditHead, Disclosure
from pars.audit.signing import Signer, load_signer
from pars.clock import now
from pars.errors import OutsideUnitOfWork
from pars.settings import Settings

# Keys in Session.info (POLICY is set by ``pars.work`` only).
STAGED = "pars.audit.staged"
STAGED_DISCLOSURES = "pars.audit.staged_disclosures"
POLICY = "pars.audit.checkpoint_policy"
FORCE_CHECKPOINT = "pars.audit.checkpoint_now"

HEAD_ID = 1

# Core tables and statements built once, run on the session's connection: this runs in every
# commit that writes entries, and the ORM's execution path, or a statement built anew per commit
# (its cache key computed each time), costs more than the statements themselves.
_entries = cast(Table, AuditEntry.__table__)
_head = cast(Table, AuditHead.__table__)
_checkpoints = cast(Table, AuditCheckpoint.__table__)
_disclosures = cast(Table, Disclosure.__table__)
_COLUMNS = tuple(c.key for c in _entries.columns)
_DISCLOSURE_COLUMNS = tuple(c.key for c in _disclosures.columns if c.key != "id")


def json_text_insert(table: Table, column: str) -> dict[str, Insert]:
    """An INSERT into ``table`` per dialect whose ``column`` (JSON) takes JSON already encoded as
    text, so a value hashed or shared by many rows is encoded once: SQLite stores the text as it
    is (the canonical form ``pars.db`` stores anyway), PostgreSQL casts it to JSONB."""
    values = {c.key: bindparam(c.key, type_=c.type) for c in table.columns if c.autoincrement is not True}
    text = bindparam(column, type_=String())
    return {
        "sqlite": insert(table).values(values | {column: text}),
        "postgresql": insert(table).values(values | {column: sql_cast(text, JSONB)}),
    }


_INSERT_ENTRIES = json_text_insert(_entries, "details")
_INSERT_DISCLOSURES = json_text_insert(_disclosures, "fields")
_LOCK_HEAD = (
    select(_head.c.seq, _head.c.hash, _head.c.checkpoint_seq, _head.c.checkpoint_at)
    .where(_head.c.id == HEAD_ID)
    .with_for_update()
)
_MOVE_HEAD = update(_head).where(_head.c.id == HEAD_ID).values(seq=bindparam("head_seq"), hash=bindparam("head_hash"))
_MOVE_HEAD_CHECKPOINT = _MOVE_HEAD.values(
    checkpoint_seq=bindparam("head_seq"),
    checkpoint_at=bindparam("checkpoint_at", type_=_head.c.checkpoint_at.type),
)
_INSERT_CHECKPOINT = insert(_checkpoints)
# PostgreSQL: the entries and the head's move in one statement, for any number of entries (one
# array per column, in the order of ``_COLUMNS``, checked below); with the accounting rows of
# disclosures staged in the transaction, their insert is one more data-modifying WITH of it
# (``ORDER BY n``: their ids follow the order they were staged in).
_PG_DISCLOSED = """, disclosed AS (
INSERT INTO disclosures (at, agency, user_id, agreement_id, agreement_version, purpose, case_reference, channel,
                         arrest_id, person_id, fields)
SELECT at, agency, user_id, agreement_id, agreement_version, purpose, case_reference, channel,
       arrest_id, person_id, fields::jsonb
FROM unnest(%(d_at)s::timestamptz[], %(d_agency)s::text[], %(d_user_id)s::uuid[], %(d_agreement_id)s::uuid[],
            %(d_agreement_version)s::integer[], %(d_purpose)s::text[], %(d_case_reference)s::text[],
            %(d_channel)s::text[], %(d_arrest_id)s::uuid[], %(d_person_id)s::uuid[], %(d_fields)s::text[])
    WITH ORDINALITY AS d(at, agency, user_id, agreement_id, agreement_version, purpose, case_reference, channel,
                         arrest_id, person_id, fields, n)
ORDER BY n)"""
_PG_SEAL_SQL = """
WITH moved AS (UPDATE audit_head SET seq = %(head_seq)s, hash = %(head_hash)s{checkpoint} WHERE id = 1){disclosed}
INSERT INTO audit_entries (seq, at, actor_id, agency, action, outcome, target, details, prev_hash, hash)
SELECT seq, at, actor_id, agency, action, outcome, target, details::jsonb, prev_hash, hash
FROM unnest(%(seq)s::bigint[], %(at)s::timestamptz[], %(actor_id)s::uuid[], %(agency)s::text[],
            %(action)s::text[], %(outcome)s::text[], %(target)s::text[], %(details)s::text[],
            %(prev_hash)s::text[], %(hash)s::text[])
    AS t(seq, at, actor_id, agency, action, outcome, target, details, prev_hash, hash)
"""
_CHECKPOINT_SQL = ", checkpoint_seq = %(head_seq)s, checkpoint_at = %(checkpoint_at)s"
# Keyed by (a checkpoint is signed, disclosures are written).
_PG_SEAL = {
    (checkpoint, disclosed): _PG_SEAL_SQL.replace("{checkpoint}", _CHECKPOINT_SQL if checkpoint else "").replace(
        "{disclosed}", _PG_DISCLOSED if disclosed else ""
    )
    for checkpoint in (False, True)
    for disclosed in (False, True)
}
assert _COLUMNS == ("seq", "at", "actor_id", "agency", "action", "outcome", "target", "details", "prev_hash", "hash")
assert _DISCLOSURE_COLUMNS == (
    "at", "agency", "user_id", "agreement_id", "agreement_version", "purpose", "case_reference", "channel",
    "arrest_id", "person_id", "fields",
)  # fmt: skip
assert (_head.name, _entries.name, _disclosures.name, HEAD_ID) == ("audit_head", "audit_entries", "disclosures", 1)


@dataclass(frozen=True)
class CheckpointPolicy:
    """When to sign a checkpoint: once ``every_entries`` entries or ``every`` time have passed
    since the last one, at the next commit that writes entries."""

    signer: Signer
    every_entries: int
    every: timedelta

    @classmethod
    def from_settings(cls, settings: Settings, signer: Signer) -> CheckpointPolicy:
        return cls(
            signer=signer,
            every_entries=settings.audit_checkpoint_entries,
            every=timedelta(seconds=settings.audit_checkpoint_seconds),
        )


def session_policy(session: Session) -> CheckpointPolicy:
    """The checkpoint policy (and signer) the session's unit of work was given (``pars.work``).
    Raises `OutsideUnitOfWork` when it has none: a writer that cannot sign is a bug, not a
    session that silently skips its checkpoints or its keyed hashes."""
    try:
        policy: CheckpointPolicy = session.info[POLICY]
    except KeyError:
        raise OutsideUnitOfWork("audit checkpoint policy (signer)") from None
    return policy


def stage(session: Session, entry: AuditEntry) -> None:
    # The entry belongs to the transaction in progress. Begin it now if nothing has yet (this
    # emits no SQL), so a rollback that follows always finds, and drops, what was staged in it.
    if not session.in_transaction():
        session.begin()
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(STAGED, []).append((entry, transaction))


def stage_disclosures(session: Session, rows: list[dict[str, Any]]) -> None:
    """Accounting rows of disclosures (one per `_DISCLOSURE_COLUMNS`, ``fields`` JSON already
    encoded as text), written at commit with the entries staged beside them: in the same
    transaction, so they stand or fall with those entries."""
    if not session.in_transaction():
        session.begin()
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(STAGED_DISCLOSURES, []).append((rows, transaction))


def request_checkpoint(session: Session) -> None:
    """Sign a checkpoint at this commit whatever the policy says (export, end of the demo)."""
    if not session.in_transaction():
        session.begin()
    session.info[FORCE_CHECKPOINT] = True


def _discard_savepoint(session: Session, previous_transaction: SessionTransaction) -> None:
    """Entries (and accounting rows) staged in a savepoint that rolled back never happened."""
    if previous_transaction.parent is None:
        return
    for key in (STAGED, STAGED_DISCLOSURES):
        staged: list[tuple[Any, SessionTransaction]] | None = session.info.get(key)
        if staged:
            session.info[key] = [(e, t) for e, t in staged if not _within(t, previous_transaction)]


def _discard(session: Session, transaction: SessionTransaction) -> None:
    """Whatever ends the outermost transaction (a commit has already taken its entries, a
    rollback or a close drops them), nothing staged in it may reach the next one."""
    if transaction.parent is None:
        session.info.pop(STAGED, None)
        session.info.pop(STAGED_DISCLOSURES, None)
        session.info.pop(FORCE_CHECKPOINT, None)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _seal(session: Session) -> None:
    staged: list[tuple[AuditEntry, SessionTransaction]] = session.info.pop(STAGED, None) or []
    forced = bool(session.info.pop(FORCE_CHECKPOINT, False))
    accounting = [row for rows, _ in session.info.pop(STAGED_DISCLOSURES, None) or () for row in rows]
    if not staged and not forced:
        if accounting:  # rows without an entry: the head stays (`record_disclosures` stages both)
            session.flush()
            connection = session.connection()
            connection.execute(_INSERT_DISCLOSURES[connection.dialect.name], accounting)
        return
    # Pending changes take their row locks now, before the head lock: a commit holding the head
    # then waits for nothing, so two commits can never deadlock over it.
    session.flush()
    connection = session.connection()
    head = _lock_head(connection)
    seq, prev_hash = head.seq, head.hash
    rows: list[dict[str, Any]] = []
    for entry, _ in staged:
        seq += 1
        # ``details`` is encoded once: the same canonical text is hashed and stored.
        details = details_json(entry.details)
        at = entry.at
        data = encode_entry(
            seq=seq,
            at=instant_text(at),
            actor=None if entry.actor_id is None else str(entry.actor_id),
            agency=entry.agency,
            action=entry.action,
            outcome=entry.outcome,
            target=entry.target,
            details_json=details,
            prev_hash=prev_hash,
        )
        digest = hashlib.sha256(data).hexdigest()
        entry.seq, entry.prev_hash, entry.hash = seq, prev_hash, digest
        rows.append({key: getattr(entry, key) for key in _COLUMNS} | {"details": details})
        prev_hash = digest
    policy = session_policy(session)
    moved: dict[str, Any] = {"head_seq": seq, "head_hash": prev_hash}
    if seq > head.checkpoint_seq:
        instant = now(session)
        if forced or _due(policy, head, seq, instant):
            _sign(connection, policy.signer, size=seq, head_hash=prev_hash, at=instant)
            moved["checkpoint_at"] = instant
    checkpoint = "checkpoint_at" in moved
    if rows and connection.dialect.name == "postgresql":
        # One statement, one round trip: the entries as one array per column, and the head moved
        # and the accounting rows written by the same statement (data-modifying WITHs), under the
        # lock taken above.
        arrays = {key: [row[key] for row in rows] for key in _COLUMNS}
        disclosed = {f"d_{key}": [row[key] for row in accounting] for key in _DISCLOSURE_COLUMNS}
        connection.exec_driver_sql(_PG_SEAL[checkpoint, bool(accounting)], arrays | moved | disclosed)
        return
    if rows:
        connection.execute(_INSERT_ENTRIES[connection.dialect.name], rows)
    if accounting:
        connection.execute(_INSERT_DISCLOSURES[connection.dialect.name], accounting)
    connection.execute(_MOVE_HEAD_CHECKPOINT if checkpoint else _MOVE_HEAD, moved)


@dataclass(frozen=True)
class _Head:
    seq: int
    hash: str
    checkpoint_seq: int
    checkpoint_at: datetime | None


def _due(policy: CheckpointPolicy, head: _Head, seq: int, instant: datetime) -> bool:
    if head.checkpoint_at is None or seq - head.checkpoint_seq >= policy.every_entries:
        return True
    # The demo writes with historical clocks, so time may run backwards: then only the count
    # decides.
    elapsed: timedelta = instant - head.checkpoint_at
    return elapsed >= policy.every


def _sign(connection: Connection, signer: Signer, *, size: int, head_hash: str, at: datetime) -> None:
    connection.execute(
        _INSERT_CHECKPOINT,
        {
            "size": size,
            "head": head_hash,
            "at": at,
            "signature": signer.sign(checkpoint_message(size=size, head=head_hash, at=at)),
            "public_key": signer.public_key,
            "key_id": signer.key_id,
        },
    )


def _lock_head(connection: Connection) -> _Head:
    row = connection.execute(_LOCK_HEAD).first()
    if row is None:
        _create_head(connection)
        row = connection.execute(_LOCK_HEAD).one()
    return _Head(*row)


def _create_head(connection: Connection) -> None:
    """The head row is missing on a database whose tables were emptied (tests) or built before
    the chain existed: rebuild it from the last entry and checkpoint. Two writers may get here
    at once on PostgreSQL; ``ON CONFLICT DO NOTHING`` lets the second one wait for the first
    and then lock the row it made."""
    last = connection.execute(select(_entries.c.seq, _entries.c.hash).order_by(_entries.c.seq.desc()).limit(1)).first()
    checkpoint = connection.execute(
        select(_checkpoints.c.size, _checkpoints.c.at).order_by(_checkpoints.c.size.desc()).limit(1)
    ).first()
    values = {
        "id": HEAD_ID,
        "seq": last.seq if last else 0,
        "hash": last.hash if last else GENESIS,
        "checkpoint_seq": checkpoint.size if checkpoint else 0,
        "checkpoint_at": checkpoint.at if checkpoint else None,
    }
    dialect = connection.dialect.name
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(_head).values(values)
    connection.execute(statement.on_conflict_do_nothing(index_elements=["id"]))


event.listen(Session, "before_commit", _seal)
event.listen(Session, "after_soft_rollback", _discard_savepoint)
event.listen(Session, "after_transaction_end", _discard)


def checkpoint_policy(settings: Settings) -> CheckpointPolicy:
    """The policy of a command's or the worker's sessions, with the key of PARS_AUDIT_KEY_FILE."""
    return CheckpointPolicy.from_settings(settings, load_signer(settings.audit_key_file))
