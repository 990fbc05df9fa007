"""A record's history: who took each workflow step on it, and when.

The steps are read from the audit trail, which is where the acting user and agency are kept;
only the successful workflow entries of this one record are returned, never who read or searched
it (that is oversight's to see, through the trail itself).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.audit import AuditAction, Outcome
from pars.audit.models import AuditEntry
from pars.auth.models import User

WORKFLOW_STEPS = (
    AuditAction.ARREST_CREATE,
    AuditAction.ARREST_CHARGING_DECISION,
    AuditAction.ARREST_ARRAIGNMENT,
    AuditAction.ARREST_COMMITMENT,
    AuditAction.ARREST_RELEASE,
    AuditAction.ARREST_SEAL,
)


@dataclass(frozen=True)
class Step:
    at: datetime
    action: str
    user: str | None  # the acting user's name; None for the system
    agency: str | None
    details: dict[str, Any]


def record_history(session: Session, arrest_id: uuid.UUID) -> list[Step]:
    """Oldest step first. Callers must have read the record through `search.read_arrest` first
    (the read is what is audited, and it refuses a record that does not exist)."""
    rows = session.execute(
        select(AuditEntry, User.name)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(
            AuditEntry.target == str(arrest_id),
            AuditEntry.action.in_([str(a) for a in WORKFLOW_STEPS]),
            AuditEntry.outcome == str(Outcome.OK),
        )
        .order_by(AuditEntry.at, AuditEntry.seq)
    ).all()
    return [
        Step(at=entry.at, action=entry.action, user=name, agency=entry.agency, details=entry.details)
        for entry, name in rows
    ]
