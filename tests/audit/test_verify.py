"""Verification names the first altered, removed, inserted or reordered entry, catches a forged
or foreign checkpoint, and passes an untouched trail (DESIGN principle 5)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select, text

from pars.audit.canonical import GENESIS, entry_hash
from pars.audit.reading import sqlite_text, stored_columns
from pars.audit.runs import segments
from pars.audit.signing import Signer
from pars.audit.verify import verify_trail
from pars.db import make_session_factory
from tests.audit.conftest import tampering, verify

N = 30  # after the bootstrap's few entries; a checkpoint at most every 10 entries


@pytest.fixture
def trail(db: Engine, write_trail: Callable[[int], None]) -> Engine:
    write_trail(N)
    return db


def test_an_untouched_trail_verifies(trail: Engine, signer: Signer) -> None:
    result = verify(trail, signer)
    assert result.ok and result.first_bad_seq is None
    # 30 entries plus the bootstrap's entries before them, and their checkpoints.
    assert result.entries >= N and result.checkpoints >= 3
    assert result.problems == []


@pytest.mark.parametrize("seq", [1, 7, 15, 29, 31])
def test_one_changed_byte_names_that_entry(trail: Engine, signer: Signer, seq: int) -> None:
    with tampering(trail) as conn:
        conn.execute(text("UPDATE audit_entries SET agency = 'PPE' WHERE seq = :seq"), {"seq": seq})
    result = verify(trail, signer)
    assert not result.ok and result.first_bad_seq == seq
    assert "altered" in result.problems[0].reason


@pytest.mark.parametrize("column", ["action", "outcome", "target", "details", "at", "actor_id", "hash", "prev_hash"])
def test_every_column_is_covered(trail: Engine, signer: Signer, column: str) -> None:
    changes = {
        "action": "'arrest.search'",
        "outcome": "'refused'",
        "target": "'someone else'",
        "details": """'{"n": 999}'""",
        "at": "at",  # replaced below: the dialects store instants differently
        "actor_id": "NULL",
        "hash": f"'{'a' * 64}'",
        "prev_hash": f"'{'b' * 64}'",
    }
    value = changes[column]
    if column == "at":
        value = "at + interval '1 second'" if trail.dialect.name == "postgresql" else "'2020-01-01 00:00:00.000000'"
    with tampering(trail) as conn:
        conn.execute(text(f"UPDATE audit_entries SET {column} = {value} WHERE seq = 12"))  # noqa: S608
    assert verify(trail, signer).first_bad_seq == 12


@pytest.mark.parametrize("seq", [1, 14, 31])
def test_a_removed_entry_is_named(trail: Engine, signer: Signer, seq: int) -> None:
    """Including the last one, which only the head still remembers."""
    last = _last_seq(trail)
    target = last if seq == 31 else seq
    with tampering(trail) as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq = :seq"), {"seq": target})
    result = verify(trail, signer)
    assert result.first_bad_seq == target
    assert "removed" in result.problems[0].reason


def test_an_inserted_entry_is_named_even_with_a_correct_hash(trail: Engine, signer: Signer) -> None:
    """An insider who knows the algorithm appends a well-formed entry outside PARS."""
    last = _last_seq(trail)
    with trail.connect() as conn:
        prev = conn.execute(text("SELECT hash FROM audit_entries WHERE seq = :s"), {"s": last}).scalar_one()
    forged = entry_hash(
        seq=last + 1, at="2026-03-17T19:00:00.000000Z", actor=None, agency="PARS", action="admin.key_issue",
        outcome="ok", target=None, details={}, prev_hash=prev,
    )  # fmt: skip
    at = "2026-03-17 19:00:00.000000" if trail.dialect.name == "sqlite" else "2026-03-17T19:00:00+00:00"
    with tampering(trail) as conn:
        conn.execute(
            text(
                "INSERT INTO audit_entries (seq, at, actor_id, agency, action, outcome, target, details, prev_hash, hash)"
                " VALUES (:seq, :at, NULL, 'PARS', 'admin.key_issue', 'ok', NULL, '{}', :prev, :hash)"
            ),
            {"seq": last + 1, "at": at, "prev": prev, "hash": forged},
        )
    result = verify(trail, signer)
    assert result.first_bad_seq == last + 1
    assert "not appended by PARS" in result.problems[0].reason


def test_an_entry_numbered_before_the_first_is_named(trail: Engine, signer: Signer) -> None:
    at = "2026-03-17 19:00:00.000000" if trail.dialect.name == "sqlite" else "2026-03-17T19:00:00+00:00"
    with tampering(trail) as conn:
        conn.execute(
            text(
                "INSERT INTO audit_entries (seq, at, actor_id, agency, action, outcome, target, details, prev_hash, hash)"
                " VALUES (0, :at, NULL, 'PARS', 'admin.key_issue', 'ok', NULL, '{}', :g, :g)"
            ),
            {"at": at, "g": GENESIS},
        )
    assert verify(trail, signer).first_bad_seq == 0


@pytest.mark.parametrize(("first", "second"), [(3, 4), (5, 17), (12, 31)])
def test_swapped_entries_name_the_first_of_them(trail: Engine, signer: Signer, first: int, second: int) -> None:
    second = min(second, _last_seq(trail))
    with tampering(trail) as conn:
        conn.execute(text("UPDATE audit_entries SET seq = -1 WHERE seq = :a"), {"a": first})
        conn.execute(text("UPDATE audit_entries SET seq = :a WHERE seq = :b"), {"a": first, "b": second})
        conn.execute(text("UPDATE audit_entries SET seq = :b WHERE seq = -1"), {"b": second})
    result = verify(trail, signer)
    assert result.first_bad_seq == first
    assert {p.seq for p in result.problems} >= {first, second}


@pytest.mark.parametrize("seq", [4, 15, 20])
def test_an_entry_altered_and_rehashed_is_named(trail: Engine, signer: Signer, seq: int) -> None:
    """The attacker recomputes the altered entry's hash: its successor's link (or a signed
    checkpoint) still names the original, and the entry after that shows which side moved."""
    _rehash(trail, seq, agency="XXX")
    result = verify(trail, signer)
    assert result.first_bad_seq == seq
    assert "re-hashed" in result.problems[0].reason or "rewritten" in result.problems[0].reason


def test_the_last_entry_altered_and_rehashed_is_named_by_the_head(trail: Engine, signer: Signer) -> None:
    last = _last_seq(trail)
    _rehash(trail, last, agency="XXX")
    assert verify(trail, signer).first_bad_seq == last


def test_a_rewritten_chain_is_caught_by_the_signed_checkpoint(trail: Engine, signer: Signer) -> None:
    """Alter entry 13 and re-chain everything after it: every link holds, but the next signed
    checkpoint no longer matches, so the entries since the checkpoint before are named."""
    last = _last_seq(trail)
    with trail.connect() as conn:
        sizes = list(conn.execute(text("SELECT size FROM audit_checkpoints ORDER BY size")).scalars())
    before, after = max(s for s in sizes if s < 13), min(s for s in sizes if s >= 13)
    _rehash(trail, 13, agency="XXX", through=last)
    result = verify(trail, signer)
    assert not result.ok and result.first_bad_seq == before + 1
    assert result.problems[0].reason == (
        f"rewritten: entries {before + 1} to {after} no longer end in the hash signed at {after}"
    )


def test_a_forged_checkpoint_signature_is_caught(trail: Engine, signer: Signer) -> None:
    with tampering(trail) as conn:
        conn.execute(text("UPDATE audit_entries SET agency = 'XXX' WHERE seq = 15"))
        size = conn.execute(text("SELECT max(size) FROM audit_checkpoints")).scalar_one()
        conn.execute(text("UPDATE audit_checkpoints SET signature = :z WHERE size = :s"), {"z": "0" * 128, "s": size})
    result = verify(trail, signer)
    forged = [p for p in result.problems if p.checkpoint == size]
    assert forged and "signature" in forged[0].reason
    assert result.first_bad_seq == 15


def test_a_checkpoint_signed_by_another_key_is_not_trusted(trail: Engine, signer: Signer) -> None:
    with tampering(trail) as conn:
        size = conn.execute(text("SELECT min(size) FROM audit_checkpoints")).scalar_one()
        conn.execute(text("UPDATE audit_checkpoints SET public_key = :k WHERE size = :s"), {"k": "ab" * 32, "s": size})
    result = verify(trail, signer)
    assert not result.ok and result.first_bad_seq is None
    assert [p.checkpoint for p in result.problems] == [size]


def test_the_database_refuses_to_change_or_remove_entries(trail: Engine) -> None:
    for statement in (
        "UPDATE audit_entries SET agency = 'X' WHERE seq = 3",
        "DELETE FROM audit_entries WHERE seq = 3",
        "UPDATE audit_checkpoints SET head = 'x'",
        "DELETE FROM audit_checkpoints",
    ):
        with pytest.raises(Exception, match="append-only"), trail.begin() as conn:
            conn.execute(text(statement))
    if trail.dialect.name == "postgresql":
        with pytest.raises(Exception, match="append-only"), trail.begin() as conn:
            conn.execute(text("TRUNCATE audit_entries"))


def _last_seq(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT max(seq) FROM audit_entries")).scalar_one())


def _rehash(engine: Engine, seq: int, *, agency: str, through: int | None = None) -> None:
    """Changes entry `seq` and recomputes its hash (and, up to `through`, the chain after it)."""
    with engine.connect() as conn:
        query = select(*stored_columns(engine.dialect.name)).order_by(text("seq"))
        rows = [r for r in conn.execute(query) if seq <= r[0] <= (through or seq)]
    prev = None
    with tampering(engine) as conn:
        for row in rows:
            number, at, actor, row_agency, action, outcome, target, details, prev_hash, _ = row
            if engine.dialect.name == "sqlite":
                at, actor = sqlite_text(at, actor)
            new_agency = agency if number == seq else row_agency
            prev_hash = prev or prev_hash
            digest = entry_hash(
                seq=number, at=at, actor=actor, agency=new_agency, action=action, outcome=outcome, target=target,
                details=json.loads(details), prev_hash=prev_hash,
            )  # fmt: skip
            conn.execute(
                text("UPDATE audit_entries SET agency = :a, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"a": new_agency, "p": prev_hash, "h": digest, "s": number},
            )
            prev = digest
        if through is not None:
            conn.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})


def test_several_processes_name_the_same_first_bad_entry(trail: Engine, signer: Signer) -> None:
    """Ranges of four entries on two processes: an entry altered and re-hashed in the middle of
    one range is still named through its successor in the next."""
    with tampering(trail) as conn:
        conn.execute(text("UPDATE audit_entries SET agency = 'PPE' WHERE seq = 16"))
    with make_session_factory(trail)() as session:
        result = verify_trail(session, public_key=signer.public_key, workers=2, chunk=4)
    assert not result.ok and result.first_bad_seq == 16 and result.entries >= N


def test_segments_keep_runs_and_single_out_the_rest() -> None:
    def entry(seq: int, prev: str, good: bool = True) -> tuple[int, str, str, str]:
        return seq, prev, f"h{seq}", f"h{seq}" if good else "other"

    entries = [entry(1, GENESIS), entry(2, "h1"), entry(3, "h2"), entry(4, "h3", good=False), entry(5, "h4"),
               entry(6, "h5"), entry(8, "h7"), entry(9, "h8")]  # fmt: skip
    found = list(segments(entries, frozenset({6})))
    assert [(s.first[0], s.second[0] if s.second else None, s.count, s.last_seq) for s in found] == [
        (1, 2, 3, 3),  # a run
        (4, None, 1, 4),  # altered
        (5, None, 1, 5),  # a run of one, cut by the checkpoint after it
        (6, None, 1, 6),  # at a checkpoint's size
        (8, 9, 2, 9),  # after a gap, a new run
    ]
