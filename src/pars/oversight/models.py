"""The oversight tables.

``oversight_alerts`` is what reviewers see. ``oversight_tallies`` and ``oversight_cursor`` are
derived state: the running counts of each rule's windows and how far the detectors have read the
trail. Both are updated in the same transaction, so a crash never counts an entry twice, and
both can be rebuilt from the trail at any time (``pars oversight scan --rebuild``); alerts are
then matched by their key, never duplicated, and keep their reviews.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pars.audit.models import SeqType
from pars.db import Base, PortableJSON


class Alert(Base):
    """One pattern found by one rule in one window, for one agency (and a user, when one user
    made every entry of the evidence). ``key`` makes raising idempotent: rule, agency, user and
    window start; a later scan that sees more of the same window updates this row."""

    __tablename__ = "oversight_alerts"
    __table_args__ = (Index("ix_oversight_alerts_window", "window_start", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    rule: Mapped[str] = mapped_column(String(48), index=True)
    agency: Mapped[str] = mapped_column(String(16), index=True)
    user_id: Mapped[uuid.UUID | None]
    severity: Mapped[str] = mapped_column(String(8))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    summary: Mapped[str] = mapped_column(Text)
    # Audit seqs, ascending; at most PARS_OVERSIGHT_MAX_EVIDENCE (details.evidence_total says how many in all).
    evidence: Mapped[list[int]] = mapped_column(PortableJSON)
    details: Mapped[dict[str, Any]]
    raised_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[uuid.UUID | None]
    review_note: Mapped[str | None] = mapped_column(Text)
    # "confirmed" (misuse), "dismissed" (not misuse) or "noted" (reviewed, no finding either way).
    review_outcome: Mapped[str | None] = mapped_column(String(16))


class Tally(Base):
    """A rule's running count for one window and subject: entries seen, their seqs (capped),
    and what the rule needs to decide (people searched per case, lookups per person, …)."""

    __tablename__ = "oversight_tallies"
    __table_args__ = (Index("ix_oversight_tallies_subject", "rule", "agency", "subject", "window_start"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    rule: Mapped[str] = mapped_column(String(48))
    agency: Mapped[str] = mapped_column(String(16))
    # The user id for per-user tallies, "" for the agency as a whole.
    subject: Mapped[str] = mapped_column(String(36))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    count: Mapped[int]
    evidence: Mapped[list[int]] = mapped_column(PortableJSON)
    data: Mapped[dict[str, Any]]


class ScanCursor(Base):
    """How far the detectors have read: every entry with ``seq`` up to here has been counted."""

    __tablename__ = "oversight_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(SeqType)
    updated_at: Mapped[datetime | None]


class Complaint(Base):
    """A complaint oversight received about a partner agency (issue 16). ``complainant`` and
    ``text`` may hold personal data: they are shown to oversight only, never logged, never on
    the trail (which keeps their lengths) and never published (the public page counts)."""

    __tablename__ = "oversight_complaints"
    __table_args__ = (Index("ix_oversight_complaints_received", "received_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # Free text: the complainant need not be a PARS user ("a resident, by letter").
    complainant: Mapped[str] = mapped_column(String(400))
    received_at: Mapped[datetime]
    agency: Mapped[str] = mapped_column(String(16), index=True)
    text: Mapped[str] = mapped_column(Text)
    # open, substantiated, not_substantiated or withdrawn (pars.oversight.complaints.ComplaintOutcome).
    outcome: Mapped[str] = mapped_column(String(24))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[uuid.UUID | None]
    # The last change of outcome; closed_* are set while the outcome is not "open".
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[uuid.UUID | None]
