from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
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
