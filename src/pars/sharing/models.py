from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pars.auth.models import Agency
from pars.db import Base


class Agreement(Base):
    """A partner agency's data-sharing agreement. Its terms live in numbered versions.

    `revision` increases with every change to the agreement or any of its versions; compiled
    grants are cached by (id, revision), so every process sees a change on its next request.
    """

    __tablename__ = "agreements"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    suspended: Mapped[bool] = mapped_column(default=False)
    suspended_at: Mapped[datetime | None]
    suspension_reason: Mapped[str | None] = mapped_column(Text)
    # Lift votes belong to one suspension; a new suspension starts a new round.
    suspension_round: Mapped[int] = mapped_column(default=0)
    terminated_at: Mapped[datetime | None]
    termination_reason: Mapped[str | None] = mapped_column(Text)

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)
    versions: Mapped[list[AgreementVersion]] = relationship(
        order_by="AgreementVersion.version", lazy="selectin", cascade="all, delete-orphan"
    )


class AgreementVersion(Base):
    __tablename__ = "agreement_versions"
    __table_args__ = (UniqueConstraint("agreement_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agreements.id"), index=True)
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(400))
    document_ref: Mapped[str | None] = mapped_column(String(400))
    effective_from: Mapped[datetime]
    expires_at: Mapped[datetime]
    purposes: Mapped[list[str]]
    channels: Mapped[list[str]]
    fields: Mapped[list[str]]
    scope: Mapped[dict[str, Any]]
    require_case_reference: Mapped[bool]
    # A query's PARS-Case-Reference must name an open case the partner registered (CONTRACT §7).
    require_registered_case: Mapped[bool] = mapped_column(default=False, server_default=false())
    daily_query_limit: Mapped[int | None]
    proposed_at: Mapped[datetime]
    # Set only when quorum approves; a version never approved never takes effect.
    approved_at: Mapped[datetime | None]

    votes: Mapped[list[Vote]] = relationship(order_by="Vote.at", lazy="selectin", cascade="all, delete-orphan")


class Vote(Base):
    __tablename__ = "agreement_votes"
    __table_args__ = (UniqueConstraint("version_id", "agency_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agreement_versions.id"), index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    user_id: Mapped[uuid.UUID | None]
    vote: Mapped[str] = mapped_column(String(4))
    at: Mapped[datetime]

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)


class LiftVote(Base):
    """A stakeholder's vote to lift the current suspension of an agreement."""

    __tablename__ = "suspension_lift_votes"
    __table_args__ = (UniqueConstraint("agreement_id", "round", "agency_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agreements.id"), index=True)
    round: Mapped[int]
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    user_id: Mapped[uuid.UUID | None]
    at: Mapped[datetime]


class DetainerRequest(Base):
    """A partner's request to hold or be notified. Nobody is ever held; an accepted request
    (one with a judicial warrant) only earns the requesting agency a release notice."""

    __tablename__ = "detainer_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    arrest_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("arrests.id"), index=True)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    user_id: Mapped[uuid.UUID | None]
    type: Mapped[str] = mapped_column(String(16))
    judicial_warrant: Mapped[dict[str, Any] | None]
    document_ref: Mapped[str | None] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    # Set by the feed when the release notice has been queued for the requesting agency.
    notified_at: Mapped[datetime | None]

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)


class RegisteredCase(Base):
    """A case a partner agency says it works (CONTRACT §7). Its reference is what the partner's
    queries carry as PARS-Case-Reference; its subjects say whom the case is about, so a lookup of
    one of them is explained. Subjects are kept only as keyed hashes (`CaseSubject`)."""

    __tablename__ = "registered_cases"
    # Also the gate's lookup: (agency, reference) → the case, in one index probe.
    __table_args__ = (UniqueConstraint("agency_id", "reference"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"))
    reference: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(400))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None]
    closed_by: Mapped[uuid.UUID | None]
    # Kept with the case so that listing many cases needs no count over their subjects.
    subject_count: Mapped[int] = mapped_column(default=0)

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)


class CaseSubject(Base):
    """One subject of a registered case: a keyed hash of the normalised parts given (last name,
    first name, date of birth) and which parts those were (``shape``, e.g. ``last+dob``). A
    person matches when the hash of the person's own parts of that shape is the same. No name
    or date is stored."""

    __tablename__ = "case_subjects"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("registered_cases.id"), index=True)
    shape: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
