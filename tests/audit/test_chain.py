"""Chaining at commit: one gap-free total order under concurrency, nothing from a rolled-back
transaction, checkpoints on their cadence."""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from pars.audit import AuditAction, record_event
from pars.audit.canonical import GENESIS
from pars.audit.chain import CheckpointPolicy, request_checkpoint
from pars.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from pars.audit.signing import Signer
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.errors import OutsideUnitOfWork
from pars.work import bind, unit_of_work
from tests.audit.conftest import CLERK, tampering, verify
from tests.audit.writers import write_entries

Checkpoints = Callable[..., CheckpointPolicy]


def _entries(session: Session) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def test_entries_are_numbered_and_chained_when_the_transaction_commits(
    db: Engine,
    clock: FrozenClock,
    session: Session,
    policy: CheckpointPolicy,
) -> None:
    before = len(_entries(session))
    with unit_of_work(make_session_factory(db), clock, policy=policy) as uow:
        first = record_event(uow, CLERK, AuditAction.ARREST_READ, "a")
        second = record_event(uow, CLERK, AuditAction.ARREST_READ, "b")
        assert first.seq is None  # staged, not yet in the chain
    entries = _entries(session)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert (first.seq, second.seq) == (before + 1, before + 2)
    assert second.prev_hash == first.hash and entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    head = session.scalars(select(AuditHead)).one()
    assert (head.seq, head.hash) == (second.seq, second.hash)


def test_a_rolled_back_transaction_leaves_nothing_and_takes_no_number(
    db: Engine,
    clock: FrozenClock,
    session: Session,
    policy: CheckpointPolicy,
) -> None:
    before = len(_entries(session))
    factory = make_session_factory(db)

    def fail(*, after_sql: bool) -> None:
        with unit_of_work(factory, clock, policy=policy) as uow:
            if after_sql:
                uow.execute(select(1))
            # Staged before any SQL ran, or after: the rollback must find and drop it.
            record_event(uow, CLERK, AuditAction.ARREST_CREATE, "never")
            raise RuntimeError

    for after_sql in (False, True):
        with pytest.raises(RuntimeError):
            fail(after_sql=after_sql)
    with unit_of_work(factory, clock, policy=policy) as uow:
        kept = record_event(uow, CLERK, AuditAction.ARREST_READ, "kept")
    entries = _entries(session)
    assert [e.target for e in entries[before:]] == ["kept"]
    assert kept.seq == before + 1


def test_a_rolled_back_savepoint_drops_only_its_own_entries(
    db: Engine, clock: FrozenClock, session: Session, policy: CheckpointPolicy
) -> None:
    before = len(_entries(session))
    with unit_of_work(make_session_factory(db), clock, policy=policy) as uow:
        record_event(uow, CLERK, AuditAction.ARREST_READ, "outer")
        savepoint = uow.begin_nested()
        record_event(uow, CLERK, AuditAction.ARREST_READ, "inner")
        savepoint.rollback()
        record_event(uow, CLERK, AuditAction.ARREST_READ, "after")
    assert [e.target for e in _entries(session)[before:]] == ["outer", "after"]


def test_details_are_copied_and_kept_json_plain(
    db: Engine, clock: FrozenClock, session: Session, policy: CheckpointPolicy
) -> None:
    details = {"count": 2.0, "ratio": 0.25, "items": ("a", "b"), 7: "key"}
    with unit_of_work(make_session_factory(db), clock, policy=policy) as uow:
        record_event(uow, CLERK, AuditAction.ARREST_SEARCH, None, details)  # type: ignore[arg-type]
        details["count"] = 99
    stored = _entries(session)[-1].details
    assert stored == {"count": 2, "ratio": 0.25, "items": ["a", "b"], "7": "key"}
    assert isinstance(stored["count"], int)


def test_checkpoints_follow_the_entry_count(
    db: Engine,
    checkpoints: Checkpoints,
    clock: FrozenClock,
    session: Session,
    signer: Signer,
) -> None:
    factory, policy = make_session_factory(db), checkpoints(entries=5)
    for _ in range(12):
        with unit_of_work(factory, clock, policy=policy) as uow:
            record_event(uow, CLERK, AuditAction.ARREST_READ)
    sizes = list(session.scalars(select(AuditCheckpoint.size).order_by(AuditCheckpoint.size)))
    # The first signed commit starts the series; then one at most every 5 entries.
    assert len(sizes) >= 3
    assert all(b - a == 5 for a, b in itertools.pairwise(sizes))
    checkpoint = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc())).first()
    assert checkpoint is not None and checkpoint.public_key == signer.public_key
    assert checkpoint.head == session.scalars(select(AuditEntry.hash).where(AuditEntry.seq == checkpoint.size)).one()
    assert verify(db, signer).ok


def test_checkpoints_follow_the_clock(
    db: Engine,
    checkpoints: Checkpoints,
    clock: FrozenClock,
    session: Session,
) -> None:
    factory, policy = make_session_factory(db), checkpoints(entries=1000, seconds=60)

    def commit() -> None:
        with unit_of_work(factory, clock, policy=policy) as uow:
            record_event(uow, CLERK, AuditAction.ARREST_READ)

    def count() -> int:
        return session.scalar(select(func.count()).select_from(AuditCheckpoint)) or 0

    commit()
    assert count() == 1
    clock.advance(timedelta(seconds=59))
    commit()
    assert count() == 1
    clock.advance(timedelta(seconds=1))
    commit()
    assert count() == 2
    latest = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc())).first()
    assert latest is not None and latest.at == clock.now()


def test_a_checkpoint_can_be_asked_for_and_is_never_repeated(
    db: Engine,
    checkpoints: Checkpoints,
    clock: FrozenClock,
    session: Session,
) -> None:
    factory, policy = make_session_factory(db), checkpoints(entries=1000)
    for _ in range(2):
        with unit_of_work(factory, clock, policy=policy) as uow:
            request_checkpoint(uow)
    sizes = list(session.scalars(select(AuditCheckpoint.size)))
    assert sizes == [session.scalar(select(func.max(AuditEntry.seq)))]


def test_a_session_without_a_signer_cannot_commit_entries(db: Engine, clock: FrozenClock, session: Session) -> None:
    """No writer chains entries without being able to sign: the commit fails loudly and writes
    nothing (a session that silently skipped its checkpoints was possible before)."""
    before = len(_entries(session))
    with make_session_factory(db)() as unsigned:
        bind(unsigned, clock, policy=None)
        record_event(unsigned, CLERK, AuditAction.ARREST_READ, "unsigned")
        with pytest.raises(OutsideUnitOfWork, match="audit checkpoint policy"):
            unsigned.commit()
    assert len(_entries(session)) == before


def test_a_lost_head_row_is_rebuilt_from_the_trail(
    db: Engine, clock: FrozenClock, signer: Signer, policy: CheckpointPolicy
) -> None:
    with db.begin() as conn:
        conn.execute(text("DELETE FROM audit_head"))
    with unit_of_work(make_session_factory(db), clock, policy=policy) as uow:
        record_event(uow, CLERK, AuditAction.ARREST_READ)
    assert verify(db, signer).ok


def test_eight_concurrent_writers_make_one_gap_free_chain(
    db: Engine,
    checkpoints: Checkpoints,
    clock: FrozenClock,
    session: Session,
    signer: Signer,
) -> None:
    factory, policy = make_session_factory(db), checkpoints(entries=7)
    before = len(_entries(session))

    def write(worker: int) -> None:
        for index in range(10):
            with unit_of_work(factory, clock, policy=policy) as uow:
                # Some real work first, so transactions overlap before they commit.
                uow.execute(select(func.count()).select_from(AuditEntry))
                record_event(uow, CLERK, AuditAction.ARREST_READ, f"{worker}-{index}")
                record_event(uow, CLERK, AuditAction.ARREST_SEARCH, f"{worker}-{index}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(8)))
    entries = _entries(session)
    assert [e.seq for e in entries] == list(range(1, before + 161))
    # Each transaction's two entries are adjacent: one commit, one run of the chain.
    for read, search in zip(entries[before::2], entries[before + 1 :: 2], strict=True):
        assert read.target == search.target and search.prev_hash == read.hash
    result = verify(db, signer)
    assert result.ok and result.entries == before + 160


def test_two_processes_make_one_gap_free_chain(
    db: Engine, database_url: str, audit_key_file: Path, session: Session, signer: Signer
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("several processes share one database in production on PostgreSQL")
    before = len(_entries(session))
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        done = pool.starmap(write_entries, [(database_url, str(audit_key_file), 25)] * 2)
    assert done == [25, 25]
    entries = _entries(session)
    assert [e.seq for e in entries] == list(range(1, before + 101))
    result = verify(db, signer)
    assert result.ok and result.entries == before + 100 and result.checkpoints >= 10


def test_tampering_needs_the_triggers_out_of_the_way(db: Engine) -> None:
    """The fixture that tests use as an attacker restores the guards afterwards."""
    with tampering(db) as conn:
        conn.execute(text("UPDATE audit_entries SET agency = 'X' WHERE seq = 1"))
    with pytest.raises(Exception, match="append-only"), db.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET agency = 'Y' WHERE seq = 1"))


def test_a_session_closed_without_commit_drops_what_it_staged(
    db: Engine, clock: FrozenClock, session: Session, policy: CheckpointPolicy
) -> None:
    before = len(_entries(session))
    factory = make_session_factory(db)
    reused = factory()
    bind(reused, clock, policy=policy)
    record_event(reused, CLERK, AuditAction.ARREST_READ, "dropped")
    reused.close()
    record_event(reused, CLERK, AuditAction.ARREST_READ, "kept")
    reused.commit()
    reused.close()
    assert [e.target for e in _entries(session)[before:]] == ["kept"]
