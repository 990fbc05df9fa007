from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pars.audit.actions import AuditAction, Outcome
from pars.audit.models import AuditEntry
from pars.auth.principal import Actor
from pars.clock import now


def record_event(
    session: Session,
    actor: Actor,
    action: AuditAction,
    target: object | None = None,
    details: dict[str, Any] | None = None,
    *,
    outcome: Outcome = Outcome.OK,
) -> AuditEntry:
    """Adds one entry to the trail in the caller's transaction, so it commits with the change.

    ``details`` must never hold protected values (names of fields are fine, their contents not).
    """
    entry = AuditEntry(
        at=now(session),
        actor_id=actor.user_id,
        agency=actor.agency_code,
        action=str(action),
        outcome=str(outcome),
        target=None if target is None else str(target),
        details=details or {},
    )
    session.add(entry)
    return entry
