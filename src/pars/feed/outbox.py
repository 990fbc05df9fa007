"""The transactional outbox: each workflow step adds an event in the same transaction as the
change, so an event exists if and only if the change committed. Delivery reads this table later
and projects the record at send time (through the gate), so events store ids, not record content.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from pars.clock import now
from pars.db import Base


class EventType(StrEnum):
    BOOKED = "pars.arrest.booked"
    CHARGED = "pars.arrest.charged"
    DECLINED = "pars.arrest.declined"
    ARRAIGNED = "pars.arrest.arraigned"
    COMMITTED = "pars.arrest.committed"
    RELEASED = "pars.arrest.released"
    UPDATED = "pars.arrest.updated"
    WITHDRAWN = "pars.arrest.withdrawn"
    RELEASE_NOTICE = "pars.release_notice"


class OutboxEvent(Base):
    __tablename__ = "outbox_events"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    type: Mapped[str] = mapped_column(String(48))
    arrest_id: Mapped[uuid.UUID] = mapped_column(index=True)
    occurred_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]


def emit(
    session: Session, event_type: EventType, arrest_id: uuid.UUID, data: dict[str, Any] | None = None
) -> OutboxEvent:
    event = OutboxEvent(type=str(event_type), arrest_id=arrest_id, occurred_at=now(session), data=data or {})
    session.add(event)
    return event
