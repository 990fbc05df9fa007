"""Complaints about partner agencies (issue 16 item 4): oversight records who complained, when,
about which agency and what, and later the outcome of its inquiry.

Complainant and text may hold personal data (the complainant is often the person whose record
was shared). They are kept for oversight alone: never logged, never on the audit trail (its
entries carry their lengths), never published; the public page and the annual report count
complaints by agency and outcome (`complaints_between` is the one call the reports make).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pars.actors import Actor
from pars.audit import AuditAction, record_event
from pars.audit.periods import parse_bound
from pars.auth.service import agency_by_code
from pars.clock import now
from pars.errors import FieldError, Invalid, NotFound
from pars.oversight.models import Complaint
from pars.pagination import Page, keyset_page

# A complaint received "now" on a clock a little ahead of ours is still now; later is a typo.
FUTURE_TOLERANCE = timedelta(minutes=5)


class ComplaintOutcome(StrEnum):
    OPEN = "open"  # received, inquiry not finished
    SUBSTANTIATED = "substantiated"  # the agency did what the complaint says, against its agreement
    NOT_SUBSTANTIATED = "not_substantiated"  # inquiry found no breach
    WITHDRAWN = "withdrawn"  # the complainant withdrew it


@dataclass(frozen=True)
class ComplaintRecord:
    """A complaint as the reports read it: a plain value, detached from the session."""

    id: uuid.UUID
    complainant: str
    received_at: datetime
    agency: str
    text: str
    outcome: ComplaintOutcome
    outcome_note: str | None
    recorded_at: datetime
    recorded_by: uuid.UUID | None
    updated_at: datetime
    closed_at: datetime | None
    closed_by: uuid.UUID | None


@dataclass(frozen=True)
class NewComplaint:
    complainant: str
    # None: received now.
    received_at: datetime | None
    agency: str
    text: str


def record_complaint(session: Session, actor: Actor, data: NewComplaint) -> Complaint:
    """Records an open complaint. The agency must be a partner agency: complaints here are about
    what partners did with what the city shared (422 otherwise)."""
    errors = []
    agency = agency_by_code(session, data.agency)
    if agency is None or agency.kind != "partner":
        errors.append(FieldError("agency", "must be the code of a partner agency"))
    instant = now(session)
    received = data.received_at or instant
    if received > instant + FUTURE_TOLERANCE:
        errors.append(FieldError("received_at", "is in the future"))
    if errors:
        raise Invalid(errors)
    complaint = Complaint(
        id=uuid.uuid4(), complainant=data.complainant, received_at=received, agency=data.agency,
        text=data.text, outcome=str(ComplaintOutcome.OPEN), outcome_note=None, recorded_at=instant,
        recorded_by=actor.user_id, updated_at=instant, closed_at=None, closed_by=None,
    )  # fmt: skip
    session.add(complaint)
    session.flush()
    record_event(
        session, actor, AuditAction.OVERSIGHT_COMPLAINT_RECORD, complaint.id,
        {"agency": complaint.agency, "received_at": complaint.received_at.isoformat(),
         "complainant_length": len(data.complainant), "text_length": len(data.text)},
    )  # fmt: skip
    return complaint


def set_outcome(
    session: Session, actor: Actor, complaint_id: uuid.UUID, *, outcome: ComplaintOutcome, note: str
) -> Complaint:
    """Sets the outcome with its note. An outcome may change again (a withdrawn complaint
    renewed, a finding revised); each change is on the trail with the previous one, so
    nothing is lost by overwriting the row. Back to open clears the closing."""
    complaint = session.scalars(select(Complaint).where(Complaint.id == complaint_id).with_for_update()).first()
    if complaint is None:
        raise NotFound("no such complaint")
    previous = complaint.outcome
    instant = now(session)
    complaint.outcome, complaint.outcome_note, complaint.updated_at = str(outcome), note, instant
    if outcome == ComplaintOutcome.OPEN:
        complaint.closed_at = complaint.closed_by = None
    else:
        complaint.closed_at, complaint.closed_by = instant, actor.user_id
    session.flush()
    record_event(
        session, actor, AuditAction.OVERSIGHT_COMPLAINT_OUTCOME, complaint.id,
        {"agency": complaint.agency, "outcome": str(outcome), "previous": previous, "note_length": len(note)},
    )  # fmt: skip
    return complaint


@dataclass(frozen=True)
class ComplaintFilter:
    agency: str | None = None
    outcome: ComplaintOutcome | None = None
    start: str | None = None
    end: str | None = None


def list_complaints(
    session: Session, actor: Actor, filters: ComplaintFilter, *, zone: ZoneInfo, limit: int, cursor: str | None
) -> Page[Complaint]:
    """Newest received first; ``from``/``to`` bound the day received (city time, inclusive)."""
    query = select(Complaint)
    if filters.agency is not None:
        query = query.where(Complaint.agency == filters.agency)
    if filters.outcome is not None:
        query = query.where(Complaint.outcome == str(filters.outcome))
    if filters.start is not None:
        query = query.where(Complaint.received_at >= parse_bound(filters.start, zone=zone, field="from", end=False))
    if filters.end is not None:
        query = query.where(Complaint.received_at < parse_bound(filters.end, zone=zone, field="to", end=True))
    page: Page[Complaint] = keyset_page(
        session, query, at=Complaint.received_at, ident=Complaint.id, limit=limit, cursor=cursor, newest_first=True
    )
    shown = {k: str(v) for k, v in vars(filters).items() if v is not None}
    record_event(
        session, actor, AuditAction.OVERSIGHT_COMPLAINTS_READ, None, {"filters": shown, "results": len(page.items)}
    )
    return page


def get_complaint(session: Session, actor: Actor, complaint_id: uuid.UUID) -> Complaint:
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound("no such complaint")
    record_event(session, actor, AuditAction.OVERSIGHT_COMPLAINTS_READ, complaint.id, {"results": 1})
    return complaint


def complaints_between(session: Session, start: datetime, end: datetime) -> list[ComplaintRecord]:
    """Complaints received in [start, end), oldest first, for the reports. Not audited here:
    the report that calls it records its own read. Callers publishing anything must count,
    never copy complainant or text."""
    query = (
        select(Complaint)
        .where(Complaint.received_at >= start, Complaint.received_at < end)
        .order_by(Complaint.received_at, Complaint.id)
    )
    return [as_record(c) for c in session.scalars(query)]


def as_record(complaint: Complaint) -> ComplaintRecord:
    return ComplaintRecord(
        id=complaint.id, complainant=complaint.complainant, received_at=complaint.received_at,
        agency=complaint.agency, text=complaint.text, outcome=ComplaintOutcome(complaint.outcome),
        outcome_note=complaint.outcome_note, recorded_at=complaint.recorded_at, recorded_by=complaint.recorded_by,
        updated_at=complaint.updated_at, closed_at=complaint.closed_at, closed_by=complaint.closed_by,
    )  # fmt: skip


def undecided(session: Session) -> int:
    """How many complaints are still open (received, inquiry not finished)."""
    query = select(func.count()).where(Complaint.outcome == str(ComplaintOutcome.OPEN))
    return int(session.scalar(query) or 0)
