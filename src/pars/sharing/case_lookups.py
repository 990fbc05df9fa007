"""Registered cases as the pages show them: listed by state, with the partner queries made
under each one's reference (its *lookups*), read from the audit trail.

The trail is the only record of a query (CONTRACT §7: one entry per get or search, answered or
refused, with its ``case_reference``), so a case's lookups are the ``arrest.read`` and
``arrest.search`` entries of its agency that name its reference, before its registration and
after its closing too: each entry's own ``case`` member says whether the reference named an open
registered case at that moment, and whether the person disclosed was one of its subjects.

Subjects stay keyed hashes: nothing here reads or returns more of them than their count.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from pars.actions import Outcome
from pars.actors import Actor
from pars.audit import AuditAction, record_event
from pars.audit.models import AuditEntry
from pars.auth.models import Agency
from pars.pagination import Page, keyset_page
from pars.sharing import cases
from pars.sharing.models import RegisteredCase

QUERY_ACTIONS = (str(AuditAction.ARREST_READ), str(AuditAction.ARREST_SEARCH))
# A case page shows this many of its newest lookups (the count above them says how many in all).
LOOKUPS_SHOWN = 200


class CaseState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ALL = "all"


@dataclass(frozen=True)
class Lookup:
    """One partner query under a case's reference, as its audit entry records it."""

    seq: int
    at: datetime
    user_id: uuid.UUID | None
    action: str  # arrest.read or arrest.search
    outcome: str  # ok or refused
    reason: str | None  # why it was refused
    records: int  # records disclosed
    registered: bool | None  # the reference named an open registered case then (None: not recorded)
    explained: bool | None  # a disclosed person was a subject of the case (None: nothing disclosed)

    @property
    def is_search(self) -> bool:
        return self.action == AuditAction.ARREST_SEARCH


def listing(
    session: Session,
    actor: Actor,
    *,
    state: CaseState,
    agency: str | None,
    limit: int,
    cursor: str | None,
) -> Page[RegisteredCase]:
    """Newest case first, open, closed or both; a partner sees only its own agency's (as
    ``cases.listing``), governance and oversight every agency's or one's. Audited as a case read."""
    query = select(RegisteredCase).join(Agency, Agency.id == RegisteredCase.agency_id)
    if actor.is_partner:
        query = query.where(Agency.code == actor.agency_code)
    elif agency is not None:
        query = query.where(Agency.code == agency)
    if state == CaseState.OPEN:
        query = query.where(RegisteredCase.closed_at.is_(None))
    elif state == CaseState.CLOSED:
        query = query.where(RegisteredCase.closed_at.is_not(None))
    page = keyset_page(
        session, query, at=RegisteredCase.created_at, ident=RegisteredCase.id, limit=limit, cursor=cursor,
        newest_first=True,
    )  # fmt: skip
    details: dict[str, Any] = {"results": len(page.items), "state": str(state)}
    if agency is not None and not actor.is_partner:
        details["agency"] = agency
    record_event(session, actor, AuditAction.CASE_READ, None, details)
    return page


def open_references(session: Session, agency: str) -> list[str]:
    """The agency's open case references, for the search form to offer (its own, not personal)."""
    query = (
        select(RegisteredCase.reference)
        .join(Agency, Agency.id == RegisteredCase.agency_id)
        .where(Agency.code == agency, RegisteredCase.closed_at.is_(None))
        .order_by(RegisteredCase.reference)
    )
    return list(session.scalars(query))


def _reference_of() -> ColumnElement[str]:
    # JSON member extraction both databases understand (SQLite json_extract, PostgreSQL ->>).
    member: ColumnElement[str] = AuditEntry.details["case_reference"].as_string()
    return member


def lookup_counts(session: Session, shown: Sequence[RegisteredCase]) -> dict[uuid.UUID, int]:
    """How many queries each case's agency made under its reference: one grouped query per agency."""
    counts: dict[uuid.UUID, int] = {case.id: 0 for case in shown}
    by_agency: dict[str, dict[str, uuid.UUID]] = {}
    for case in shown:
        by_agency.setdefault(case.agency.code, {})[case.reference] = case.id
    reference = _reference_of()
    for code, references in by_agency.items():
        rows = session.execute(
            select(reference, func.count())
            .where(
                AuditEntry.agency == code,
                AuditEntry.action.in_(QUERY_ACTIONS),
                reference.in_(sorted(references)),
            )
            .group_by(reference)
        )
        for value, count in rows:
            if value in references:
                counts[references[value]] = int(count)
    return counts


def case_with_lookups(
    session: Session, actor: Actor, case_id: uuid.UUID, *, limit: int = LOOKUPS_SHOWN
) -> tuple[RegisteredCase, list[Lookup], int]:
    """The case (another agency's is a 404 for a partner), its newest ``limit`` lookups and how
    many there are in all. Reading them is reading the trail: audited as such."""
    case = cases.visible(session, actor, case_id)
    where = (
        AuditEntry.agency == case.agency.code,
        AuditEntry.action.in_(QUERY_ACTIONS),
        _reference_of() == case.reference,
    )
    total = int(session.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0)
    entries = session.scalars(select(AuditEntry).where(*where).order_by(AuditEntry.seq.desc()).limit(limit))
    found = [_lookup(entry) for entry in entries]
    filters = {"agency": case.agency.code, "case": str(case.id)}
    record_event(session, actor, AuditAction.AUDIT_READ, None, {"filters": filters, "results": len(found)})
    return case, found, total


def _lookup(entry: AuditEntry) -> Lookup:
    details = entry.details or {}
    standing = details.get("case")
    records = details.get("records") or []
    answered = entry.outcome == Outcome.OK
    registered = explained = None
    if isinstance(standing, dict):
        registered = bool(standing.get("registered"))
        explained = bool(standing.get("explained")) if records else None
    return Lookup(
        seq=entry.seq,
        at=entry.at,
        user_id=entry.actor_id,
        action=entry.action,
        outcome=entry.outcome,
        reason=None if answered else str(details.get("reason") or "") or None,
        records=len(records) if answered else 0,
        registered=registered,
        explained=explained,
    )
