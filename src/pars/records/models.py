from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pars.db import Base


class Person(Base):
    """The identity that links a person's arrests; the details as entered live on each arrest."""

    __tablename__ = "persons"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    ppn: Mapped[str] = mapped_column(String(12), unique=True)
    sid: Mapped[str | None] = mapped_column(String(32), index=True)
    fbi_number: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime]


class Arrest(Base):
    __tablename__ = "arrests"
    __table_args__ = (
        Index("ix_arrests_name_key", "last_key", "first_key", "dob"),
        Index("ix_arrests_arrested_at_id", "arrested_at", "id"),
        Index("ix_arrests_status_arrested_at", "status", "arrested_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tracking_number: Mapped[str] = mapped_column(String(8), unique=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"), index=True)
    status: Mapped[str] = mapped_column(String(24))
    sealed: Mapped[bool] = mapped_column(default=False)
    sealed_at: Mapped[datetime | None]
    seal_order_ref: Mapped[str | None] = mapped_column(String(200))

    # The person as entered at this booking, byte for byte; *_key columns hold the matching form.
    first_name: Mapped[str | None] = mapped_column(String(200))
    middle_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    suffix: Mapped[str | None] = mapped_column(String(200))
    last_key: Mapped[str] = mapped_column(String(200))
    first_key: Mapped[str | None] = mapped_column(String(200))
    aliases: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    dob: Mapped[date]
    sex: Mapped[str | None] = mapped_column(String(32))
    race: Mapped[str | None] = mapped_column(String(64))
    ethnicity: Mapped[str | None] = mapped_column(String(64))
    place_of_birth: Mapped[str | None] = mapped_column(String(200))
    citizenship: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[dict[str, Any] | None]
    phone: Mapped[str | None] = mapped_column(String(40))
    ssn: Mapped[str | None] = mapped_column(String(16))
    sid: Mapped[str | None] = mapped_column(String(32), index=True)
    fbi_number: Mapped[str | None] = mapped_column(String(32))

    arrested_at: Mapped[datetime]
    location: Mapped[str | None] = mapped_column(String(400))
    district: Mapped[str | None] = mapped_column(String(8), index=True)
    incident_number: Mapped[str | None] = mapped_column(String(32), index=True)
    arresting_agency: Mapped[str | None] = mapped_column(String(16))
    arresting_officer: Mapped[str | None] = mapped_column(String(32))
    narrative: Mapped[str | None] = mapped_column(Text)
    victims: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    witnesses: Mapped[list[dict[str, Any]]] = mapped_column(default=list)

    charging_decision: Mapped[str | None] = mapped_column(String(16))
    charging_decided_at: Mapped[datetime | None]
    docket_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    charging_notes: Mapped[str | None] = mapped_column(Text)

    arraigned_at: Mapped[datetime | None]
    bail_type: Mapped[str | None] = mapped_column(String(16))
    bail_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    bail_conditions: Mapped[str | None] = mapped_column(Text)
    next_hearing_at: Mapped[datetime | None]

    custody_status: Mapped[str] = mapped_column(String(16))
    facility: Mapped[str | None] = mapped_column(String(200))
    released_at: Mapped[datetime | None]
    release_reason: Mapped[str | None] = mapped_column(String(400))

    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    person: Mapped[Person] = relationship(lazy="joined", innerjoin=True)
    charges: Mapped[list[Charge]] = relationship(
        order_by="Charge.sequence", lazy="selectin", cascade="all, delete-orphan"
    )


class Charge(Base):
    __tablename__ = "charges"
    __table_args__ = (
        UniqueConstraint("arrest_id", "sequence"),
        Index("ix_charges_title_section_grade", "title", "section", "grade"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    arrest_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("arrests.id"), index=True)
    sequence: Mapped[int]
    title: Mapped[int]
    section: Mapped[str] = mapped_column(String(16))
    subsection: Mapped[str | None] = mapped_column(String(16))
    grade: Mapped[str] = mapped_column(String(4))
    description: Mapped[str] = mapped_column(String(400))
    counts: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16))


class Counter(Base):
    """Named counters for human-facing numbers (PPN, tracking and docket numbers).

    Incremented with UPDATE … RETURNING, which takes the row lock, so concurrent bookings on
    PostgreSQL never draw the same number.
    """

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int]
