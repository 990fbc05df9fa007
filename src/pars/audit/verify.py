"""Verifying the trail: recompute every hash, follow every link, check every checkpoint.

What is checked, and what each finding names:

- an entry whose content no longer hashes to its stored hash: that entry (altered);
- a number missing from 1..N, or the trail ending before the head: the first missing number
  (removed); an entry numbered below 1, or beyond the head: that entry (not written by PARS);
- two neighbours that are each consistent but do not link: one of them was altered and
  re-hashed. The entry after them (or the head, or a checkpoint) decides which: if it still
  links to the later one, the later one is original, so the earlier one was altered;
- a checkpoint whose signature does not verify under the trusted key (forged), or whose head is
  not the recomputed hash at its size (the entries since the previous good checkpoint were
  rewritten, chain and all).

Swapping two entries changes the content at both numbers, so the first of them is named.

Entries stream from the database in order, a batch at a time (``reading.stored_batches``), so
memory does not grow with the trail. The reads need no snapshot: the head is read first and only entries up to it are
checked, because a commit writes its entries and moves the head in one transaction. A large
trail is read and re-hashed by several processes, a range of ``seq`` each, and their findings
fed to the same checker in order (``pars.audit.runs``): the result is the same.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pars.audit.canonical import GENESIS, checkpoint_message
from pars.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from pars.audit.reading import stored_batches, with_computed_hashes
from pars.audit.runs import Segment, Task, check_range
from pars.audit.signing import signature_valid

MAX_PROBLEMS = 100
BATCH = 10_000
# Below this many entries one process is quicker than starting others.
PARALLEL_MIN = 200_000
MAX_WORKERS = 8
MIN_CHUNK = 1_000

_entries = AuditEntry.__table__
_head = AuditHead.__table__


@dataclass(frozen=True, order=True)
class Problem:
    seq: int | None
    reason: str
    checkpoint: int | None = None


@dataclass
class Verification:
    entries: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Findings beyond the first MAX_PROBLEMS are counted, not kept.
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None


class ChainChecker:
    """Fed the entries in ``seq`` order: the rules of verification without any database, so
    they can be tested, and reused by any reader, on their own."""

    def __init__(self, checkpoint_heads: Mapping[int, str]) -> None:
        self.checkpoint_heads = checkpoint_heads  # size → head, trusted checkpoints only
        self.expected = 1
        self.prev_hash = GENESIS
        self.prev_bad = False
        self.last_good_checkpoint = 0
        # A link broke between entries (a, b), both consistent: (a, b, b's hash) until the next
        # entry shows which of them is original.
        self.pending: tuple[int, int, str] | None = None
        # A consistent entry at a checkpoint's size differs from the signed head: (first entry
        # after the last good checkpoint, that size) until the next entry shows whether only
        # that entry was re-hashed or the whole run was re-chained.
        self.rewrite: tuple[int, int] | None = None
        self.findings: dict[int, str] = {}
        self.count = 0

    def flag(self, seq: int, reason: str) -> None:
        self.findings.setdefault(seq, reason)

    def feed(self, seq: int, prev_hash: str, stored_hash: str, computed_hash: str) -> None:
        self.count += 1
        if (
            computed_hash == stored_hash
            and seq == self.expected
            and prev_hash == self.prev_hash
            and self.pending is None
            and self.rewrite is None
            and seq not in self.checkpoint_heads
        ):  # the intact entry: nearly all of them
            self.prev_hash, self.prev_bad, self.expected = stored_hash, False, seq + 1
            return
        if seq < self.expected:
            self.flag(seq, "numbered before the first entry: not written by PARS")
            return
        gap = seq > self.expected
        if gap:
            missing = str(self.expected) if seq == self.expected + 1 else f"{self.expected} to {seq - 1}"
            self.flag(self.expected, f"removed: entry {missing} is missing")
        consistent = computed_hash == stored_hash
        linked = gap or prev_hash == self.prev_hash
        if self.pending is not None:
            self._settle(next_links=consistent and not gap and linked)
        if self.rewrite is not None:
            # Still linked to the changed entry: the chain was rebuilt through it. Not linked: the
            # link check below names the changed entry itself.
            if gap or not consistent or linked:
                self._flag_rewrite()
            self.rewrite = None
        if not consistent:
            self.flag(seq, "altered: its content does not match its hash")
        elif not linked and not self.prev_bad:
            self._link_broken(seq - 1, seq, stored_hash)
        self._check_checkpoint(seq, stored_hash, consistent)
        self.prev_bad = seq in self.findings
        self.prev_hash = stored_hash
        self.expected = seq + 1

    def _link_broken(self, before: int, after: int, after_hash: str) -> None:
        if before in self.checkpoint_heads:
            # A checkpoint vouches for (or against) the earlier entry: no need to wait.
            self._blame(after if self.checkpoint_heads[before] == self.prev_hash else before)
        elif self.checkpoint_heads.get(after) == after_hash:
            self._blame(before)
        else:
            self.pending = (before, after, after_hash)

    def _settle(self, *, next_links: bool) -> None:
        assert self.pending is not None
        before, after, _ = self.pending
        self.pending = None
        # The next entry still links to `after`: `after` is original, so `before` changed.
        self._blame(before if next_links else after)

    def _blame(self, seq: int) -> None:
        self.flag(seq, "altered and re-hashed: its hash is not the one the chain recorded for it")

    def _check_checkpoint(self, seq: int, stored_hash: str, consistent: bool) -> None:
        head = self.checkpoint_heads.get(seq)
        if head is None:
            return
        if head == stored_hash:
            self.last_good_checkpoint = seq
        elif consistent and seq not in self.findings:
            self.rewrite = (self.last_good_checkpoint + 1, seq)

    def _flag_rewrite(self) -> None:
        assert self.rewrite is not None
        first, size = self.rewrite
        self.flag(first, f"rewritten: entries {first} to {size} no longer end in the hash signed at {size}")

    def feed_segment(self, segment: Segment) -> None:
        """A run of entries from a worker process (``pars.audit.runs``): its first two in full,
        which leaves nothing open, then the rest as the fast path would have taken them."""
        self.feed(*segment.first)
        if segment.second is not None:
            self.feed(*segment.second)
        rest = segment.count - (2 if segment.second is not None else 1)
        if rest > 0:
            assert self.pending is None and self.rewrite is None and self.expected == segment.last_seq - rest + 1
            self.count += rest
            self.prev_hash, self.prev_bad, self.expected = segment.last_hash, False, segment.last_seq + 1

    def finish(self, head_seq: int | None, head_hash: str | None) -> None:
        last = self.expected - 1
        if self.pending is not None:
            _, after, after_hash = self.pending
            self._settle(next_links=head_seq == after and head_hash == after_hash)
        if self.rewrite is not None:
            if head_seq is None or head_hash == self.prev_hash:
                self._flag_rewrite()
            self.rewrite = None
        if head_seq is None or head_hash is None:
            return
        if head_seq > last:
            missing = str(head_seq) if head_seq == last + 1 else f"{last + 1} to {head_seq}"
            self.flag(last + 1, f"removed: entry {missing} is missing (the chain's head is at {head_seq})")
        elif head_seq == last and head_hash != self.prev_hash and last not in self.findings:
            self._blame(last)


def verify_trail(
    session: Session,
    *,
    public_key: str,
    on_progress: Callable[[int, int], None] | None = None,
    workers: int = 0,
    chunk: int | None = None,
) -> Verification:
    """Checks the whole trail against the trusted ``public_key`` (hex). ``on_progress(done,
    total)`` is called every few thousand entries.

    ``workers``: processes that read and re-hash ranges of the trail side by side
    (``pars.audit.runs``), each over ``chunk`` entries at a time; 0 (the default) uses every
    core once the trail holds ``PARALLEL_MIN`` entries, 1 reads it here, in this session. The
    findings are the same either way."""
    result = Verification()
    checkpoints = session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.size)).scalars().all()
    problems: list[Problem] = []
    trusted: dict[int, str] = {}
    for checkpoint in checkpoints:
        reason = _checkpoint_problem(checkpoint, public_key)
        if reason is None:
            trusted[checkpoint.size] = checkpoint.head
        else:
            problems.append(Problem(None, reason, checkpoint.size))
    result.checkpoints = len(checkpoints)
    head = session.execute(select(_head.c.seq, _head.c.hash)).first()
    total = head.seq if head is not None else _max_seq(session)
    checker = ChainChecker(trusted)
    url = _shareable_url(session)
    processes = workers or (min(os.cpu_count() or 1, MAX_WORKERS) if total >= PARALLEL_MIN else 1)
    if processes > 1 and url is not None:
        _check_in_parallel(checker, url, head.seq if head else None, total, processes, chunk, on_progress)
    else:
        _check_here(session, checker, head.seq if head else None, total, on_progress)
    if head is not None:
        # Read after the stream: anything past the head now was not appended through PARS.
        beyond, head_after = _max_seq(session), session.execute(select(_head.c.seq)).scalar_one()
        if beyond > head_after:
            checker.flag(head_after + 1, "beyond the chain's head: not appended by PARS")
        for size in (c.size for c in checkpoints if c.size > head.seq):
            problems.append(Problem(None, "a checkpoint beyond the chain's head: not written by PARS", size))
    checker.finish(head.seq if head else None, head.hash if head else None)
    problems.extend(Problem(seq, reason) for seq, reason in checker.findings.items())
    problems.sort(key=lambda p: (p.seq is None, p.seq or 0, p.checkpoint or 0))
    result.entries = checker.count
    result.problems = problems[:MAX_PROBLEMS]
    result.more_problems = max(0, len(problems) - MAX_PROBLEMS)
    return result


def _check_here(
    session: Session,
    checker: ChainChecker,
    head: int | None,
    total: int,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    connection = session.connection()
    dialect = connection.dialect.name
    feed = checker.feed
    for batch in stored_batches(connection, last=head, batch=BATCH):
        for seq, prev_hash, stored, computed in with_computed_hashes(batch, dialect=dialect):
            feed(seq, prev_hash, stored, computed)
        if on_progress is not None:
            on_progress(checker.count, total)


def _check_in_parallel(
    checker: ChainChecker,
    url: str,
    head: int | None,
    total: int,
    processes: int,
    chunk: int | None,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    """Ranges of ``chunk`` entries to a pool of processes, their segments fed back in order. The
    first range has no lower bound and the last none above the head, so entries numbered below
    1 (or past the end, when there is no head) are read, as a serial verification reads them."""
    size = chunk or max(MIN_CHUNK, -(-total // (processes * 4)))
    sizes = frozenset(checker.checkpoint_heads)
    bounds = list(range(1, max(total, 1) + 1, size))
    tasks = [
        Task(url, None if i == 0 else first, head if i == len(bounds) - 1 else first + size - 1, sizes)
        for i, first in enumerate(bounds)
    ]
    # Not a plain fork: the API server and the worker run threads, which a fork would copy
    # mid-step. The fork server starts clean once, with the reading code imported, and forks
    # from itself: later verifications start their processes at once.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([check_range.__module__])
    with context.Pool(min(processes, len(tasks))) as pool:
        for _, found in pool.imap(check_range, tasks):
            for segment in found:
                checker.feed_segment(segment)
            if on_progress is not None:
                on_progress(checker.count, total)


def _shareable_url(session: Session) -> str | None:
    """The database URL another process can open; None for a private in-memory SQLite."""
    url = session.get_bind().engine.url
    if url.get_backend_name() == "sqlite" and (not url.database or url.database == ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


def _checkpoint_problem(checkpoint: AuditCheckpoint, public_key: str) -> str | None:
    if checkpoint.public_key != public_key:
        return f"signed by key {checkpoint.key_id}, not by the trusted key"
    message = checkpoint_message(size=checkpoint.size, head=checkpoint.head, at=checkpoint.at)
    if not signature_valid(public_key, checkpoint.signature, message):
        return "its signature does not verify: forged or altered"
    return None


def _max_seq(session: Session) -> int:
    return int(session.execute(select(func.coalesce(func.max(_entries.c.seq), 0))).scalar_one())
