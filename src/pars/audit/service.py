from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pars.actions import AuditAction, Outcome
from pars.actors import Actor
from pars.audit import chain
from pars.audit.canonical import plain_details
from pars.audit.models import AuditEntry
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
    """Adds one entry to the trail in the caller's transaction: it is chained and written when
    that transaction commits, and vanishes if it rolls back. ``seq`` and ``hash`` are set on the
    returned entry only after the commit.

    ``details`` must never hold protected values (names of fields are fine, their contents not),
    and only JSON values: it is copied here, so changing the dict afterwards changes nothing.
    """
    entry = AuditEntry(
        at=now(session),
        actor_id=actor.user_id,
        agency=actor.agency_code,
        action=str(action),
        outcome=str(outcome),
        target=None if target is None else str(target),
        details=plain_details(details),
    )
    chain.stage(session, entry)
    return entry
