"""Exporting a period of the trail for an outside auditor (docs/audit.md, "Offline verification").

The file is JSON Lines:

1. ``{"type": "pars.audit.export", ...}``: the period, the seq range, the encoding, the public key;
2. ``{"type": "anchor", "seq": F-1, "hash": ...}``: the hash just before the first entry, which the
   first entry's ``prev_hash`` must equal;
3. ``{"type": "entry", ...}`` for every seq from F to T, each with its ``prev_hash`` and ``hash``;
4. ``{"type": "checkpoint", ...}`` for every checkpoint with a size from F-1 to T.

Entries are numbered in commit order while ``at`` is the time of the event, and the two need not
agree (the demo records past events), so "the period" is the contiguous run of the chain from
the first to the last entry whose ``at`` falls in it; entries inside that run but outside the
period say ``"in_period": false``. The run is extended to the first checkpoint at or after its
end (T), so that a signature vouches for every exported entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pars.audit.canonical import ENCODING, GENESIS, instant_text
from pars.audit.models import AuditCheckpoint, AuditEntry
from pars.audit.reading import sqlite_text, stored_columns

FORMAT = "pars.audit.export"
BATCH = 10_000

_c = AuditEntry.__table__.c


@dataclass(frozen=True)
class ExportSummary:
    first_seq: int | None
    last_seq: int | None
    through_seq: int | None
    entries: int
    checkpoints: int


def export_period(
    session: Session,
    out: TextIO,
    *,
    start: datetime,
    end: datetime,
    public_key: str,
    exported_at: datetime,
    on_progress: Callable[[int, int], None] | None = None,
) -> ExportSummary:
    """Writes entries with ``start <= at < end`` (and the run around them, see above) to ``out``."""
    in_period = (AuditEntry.at >= start) & (AuditEntry.at < end)
    first, last = session.execute(select(func.min(AuditEntry.seq), func.max(AuditEntry.seq)).where(in_period)).one()
    through = last
    if last is not None:
        covering = session.scalar(select(func.min(AuditCheckpoint.size)).where(AuditCheckpoint.size >= last))
        through = covering if covering is not None else last
    header = {
        "type": FORMAT,
        "version": 1,
        "encoding": ENCODING,
        "period": {"from": instant_text(start), "to": instant_text(end)},
        "first_seq": first,
        "last_seq": last,
        "through_seq": through,
        "exported_at": instant_text(exported_at),
        "public_key": public_key,
    }
    _line(out, header)
    if first is None or through is None:
        return ExportSummary(None, None, None, 0, 0)
    anchor = GENESIS if first == 1 else session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == first - 1))
    _line(out, {"type": "anchor", "seq": first - 1, "hash": anchor})
    count = _write_entries(session, out, first=first, through=through, start=start, end=end, on_progress=on_progress)
    checkpoints = session.scalars(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.size >= first - 1, AuditCheckpoint.size <= through)
        .order_by(AuditCheckpoint.size)
    ).all()
    for checkpoint in checkpoints:
        _line(
            out,
            {
                "type": "checkpoint",
                "size": checkpoint.size,
                "head": checkpoint.head,
                "at": instant_text(checkpoint.at),
                "signature": checkpoint.signature,
                "public_key": checkpoint.public_key,
                "key_id": checkpoint.key_id,
            },
        )
    return ExportSummary(first, last, through, count, len(checkpoints))


def _write_entries(
    session: Session,
    out: TextIO,
    *,
    first: int,
    through: int,
    start: datetime,
    end: datetime,
    on_progress: Callable[[int, int], None] | None,
) -> int:
    dialect = session.get_bind().dialect.name
    # The at column as the database compares it, next to the canonical text, decides in_period.
    query = (
        select(*stored_columns(dialect), (_c.at >= start) & (_c.at < end))
        .where(_c.seq >= first, _c.seq <= through)
        .order_by(_c.seq)
    )
    count = 0
    total = through - first + 1
    for batch in session.execute(query.execution_options(yield_per=BATCH)).partitions():
        for seq, at, actor, agency, action, outcome, target, details, prev_hash, digest, inside in batch:
            if dialect == "sqlite":
                at, actor = sqlite_text(at, actor)  # noqa: PLW2901 - the same values, in canonical text
            entry = {
                "type": "entry",
                "seq": seq,
                "at": at,
                "actor": actor,
                "agency": agency,
                "action": action,
                "outcome": outcome,
                "target": target,
                "details": json.loads(details),
                "prev_hash": prev_hash,
                "hash": digest,
                "in_period": bool(inside),
            }
            _line(out, entry)
            count += 1
        if on_progress is not None:
            on_progress(count, total)
    return count


def _line(out: TextIO, value: dict[str, Any]) -> None:
    out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    out.write("\n")
