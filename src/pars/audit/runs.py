"""Verifying a large trail on several processor cores.

The chain is sequential in its links, but each entry's hash depends only on the entry itself
(its stored ``prev_hash`` included), so the costly part, reading and re-hashing, splits into
ranges of ``seq`` that processes check side by side. Each process reads its range over a
connection of its own and sends back *segments* instead of entries:

- a **run**: consecutive entries, each consistent with its hash, each linked to the one before
  it, none at a checkpoint's size: its first two entries in full, its length, and its last
  ``seq`` and hash;
- any other entry (altered, not linked, numbered out of order, at a checkpoint) in full.

The parent feeds segments to the very ``ChainChecker`` of a serial verification, in ``seq``
order: the first two entries of a run in full, which settles whatever the entries before left
open (a broken link, a checkpoint that did not match), after which the rest of the run would
have taken the checker's fast path one by one, so it is applied in one step. The findings, and
the first bad entry they name, are exactly those of a serial verification.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from pars.audit.reading import stored_batches, with_computed_hashes

Entry = tuple[int, str, str, str]  # seq, prev_hash, stored hash, recomputed hash
BATCH = 20_000


@dataclass(frozen=True, slots=True)
class Segment:
    first: Entry
    second: Entry | None
    count: int
    last_seq: int
    last_hash: str


@dataclass(frozen=True, slots=True)
class Task:
    url: str  # with its password: the process connects on its own
    first: int | None  # None: from the lowest number stored (entries below 1 are findings too)
    last: int | None  # None: to the highest
    checkpoint_sizes: frozenset[int]


def segments(entries: Iterable[Entry], checkpoint_sizes: frozenset[int]) -> Iterator[Segment]:
    """Cuts entries (in ``seq`` order) into runs and single entries (see the module's docstring)."""
    first: Entry | None = None
    second: Entry | None = None
    count, last_seq, last_hash = 0, 0, ""
    for entry in entries:
        seq, prev_hash, stored, computed = entry
        clean = computed == stored and seq not in checkpoint_sizes
        if clean and count and seq == last_seq + 1 and prev_hash == last_hash:
            if count == 1:
                second = entry
            count += 1
        else:
            if first is not None:
                yield Segment(first, second, count, last_seq, last_hash)
            first, second, count = entry, None, 1
            if not clean:  # a single entry, fed in full
                yield Segment(first, None, 1, seq, stored)
                first, count = None, 0
        last_seq, last_hash = seq, stored
    if first is not None:
        yield Segment(first, second, count, last_seq, last_hash)


def check_range(task: Task) -> tuple[int, list[Segment]]:
    """In a worker process: reads and re-hashes the entries ``first..last``; returns how many
    it read and their segments. Reads only (no write lock on SQLite), through a server-side
    cursor on PostgreSQL, without the ORM or any column type: the driver's tuples of text
    (``reading.stored_batches``)."""
    engine = create_engine(task.url, poolclass=NullPool)
    try:
        return _check(engine, task)
    finally:
        engine.dispose()


def _check(engine: Engine, task: Task) -> tuple[int, list[Segment]]:
    dialect = engine.dialect.name
    read = 0

    def entries() -> Iterator[Entry]:
        nonlocal read
        with engine.connect() as connection:
            for batch in stored_batches(connection, first=task.first, last=task.last, batch=BATCH):
                read += len(batch)
                yield from with_computed_hashes(batch, dialect=dialect)

    found = list(segments(entries(), task.checkpoint_sizes))
    return read, found
