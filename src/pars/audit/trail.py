"""Reading the trail over the API (CONTRACT §10). Every read, verification and checkpoint read
is itself written to the trail, as CJIS Security Policy 5.4 asks of access to audit records."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.actions import AuditAction, Outcome
from pars.actors import Actor
from pars.audit.models import AuditCheckpoint, AuditEntry
from pars.audit.periods import parse_bound
from pars.audit.service import record_event
from pars.audit.verify import Verification, verify_trail
from pars.errors import BadRequest, NotFound, Refusal
from pars.pagination import Page, decode_cursor, encode_cursor


def read_trail(
    session: Session,
    actor: Actor,
    *,
    actor_id: uuid.UUID | None = None,
    agency: str | None = None,
    action: str | None = None,
    outcome: Outcome | None = None,
    start: str | None = None,
    end: str | None = None,
    zone: ZoneInfo,
    limit: int,
    cursor: str | None = None,
) -> Page[AuditEntry]:
    """Newest entry first. ``action`` matches exactly, or by area with a trailing ``.*``
    (``auth.*``); ``start``/``end`` are dates (city time, inclusive) or instants (end exclusive)."""
    query = select(AuditEntry)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if agency is not None:
        query = query.where(AuditEntry.agency == agency)
    if action is not None:
        if action.endswith(".*"):
            query = query.where(AuditEntry.action.startswith(action[:-1], autoescape=True))
        else:
            query = query.where(AuditEntry.action == action)
    if outcome is not None:
        query = query.where(AuditEntry.outcome == str(outcome))
    if start is not None:
        query = query.where(AuditEntry.at >= parse_bound(start, zone=zone, field="from", end=False))
    if end is not None:
        query = query.where(AuditEntry.at < parse_bound(end, zone=zone, field="to", end=True))
    if cursor is not None:
        query = query.where(AuditEntry.seq < _seq_cursor(cursor))
    rows = list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    filters: dict[str, Any] = {
        "actor": None if actor_id is None else str(actor_id),
        "agency": agency,
        "action": action,
        "outcome": None if outcome is None else str(outcome),
        "from": start,
        "to": end,
    }
    details = {"filters": {k: v for k, v in filters.items() if v is not None}, "results": len(rows)}
    record_event(session, actor, AuditAction.AUDIT_READ, None, details)
    return Page(rows, encode_cursor([rows[-1].seq]) if more else None)


def _seq_cursor(cursor: str) -> int:
    key = decode_cursor(cursor)
    if len(key) != 1 or not isinstance(key[0], int):
        raise BadRequest("cursor is not one this service returned")
    return key[0]


def verify(
    session: Session,
    actor: Actor,
    *,
    public_key: str,
    on_progress: Callable[[int, int], None] | None = None,
) -> Verification:
    result = verify_trail(session, public_key=public_key, on_progress=on_progress)
    details = {"ok": result.ok, "entries": result.entries, "first_bad_seq": result.first_bad_seq}
    record_event(session, actor, AuditAction.AUDIT_VERIFY, None, details)
    return result


def latest_checkpoint(session: Session, actor: Actor) -> AuditCheckpoint:
    checkpoint = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1)).first()
    if checkpoint is None:
        raise NotFound(
            "no checkpoint has been signed yet",
            refusal=Refusal(AuditAction.AUDIT_CHECKPOINT_READ, None, {"reason": "no_checkpoint"}),
        )
    record_event(session, actor, AuditAction.AUDIT_CHECKPOINT_READ, None, {"size": checkpoint.size})
    return checkpoint
