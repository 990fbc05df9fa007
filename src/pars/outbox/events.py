"""The transactional outbox: each workflow step adds an event in the same transaction as the
change, so an event exists if and only if the change committed. Delivery reads this table later
and projects the record at send time (through the gate), so events store ids, not record content.

A commit that added events wakes the feed worker: in this process through ``signals.WAKE``, in
every process through PostgreSQL ``NOTIFY`` (delivered only if the transaction commits).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import BigInteger, Index, Integer, String, Table, event, func, insert, literal, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from pars.clock import now
from pars.db import Base
from pars.outbox.signals import CHANNEL, WAKE

# Key in Session.info: this transaction has something for the feed (outbox or stream events).
_WAKE = "pars.feed.wake"


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
    __table_args__ = (Index("ix_outbox_events_pending", "fanned_out_at", "seq"),)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    type: Mapped[str] = mapped_column(String(48))
    arrest_id: Mapped[uuid.UUID] = mapped_column(index=True)
    occurred_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]
    # When the feed turned this event into partner stream events; null while it waits.
    fanned_out_at: Mapped[datetime | None]


def emit(session: Session, event_type: EventType, arrest_id: uuid.UUID, data: dict[str, Any] | None = None) -> None:
    """Writes the event's row now, with a plain insert through the session: no object to track
    and no flush of the ORM's unit of work for it (the caller's own pending changes are flushed
    first, as before any statement). Events keep the order they were emitted in (``seq``).

    On PostgreSQL the transaction's first event carries its ``NOTIFY`` (`wake_on_commit`) in
    the insert's ``RETURNING``: one statement, not two."""
    row = {
        "id": uuid.uuid4(),
        "type": str(event_type),
        "arrest_id": arrest_id,
        "occurred_at": now(session),
        "data": data or {},
        "fanned_out_at": None,
    }
    if session.info.get(_WAKE) or session.get_bind().dialect.name != "postgresql":
        session.execute(_INSERT, row)
        wake_on_commit(session)
        return
    session.info[_WAKE] = True
    session.execute(_INSERT_NOTIFYING, row).close()


_INSERT = insert(cast(Table, OutboxEvent.__table__))
# pg_notify is evaluated once for the one row inserted; delivered, like any NOTIFY, on commit.
_INSERT_NOTIFYING = _INSERT.returning(func.pg_notify(literal(CHANNEL), literal("")))


def wake_on_commit(session: Session) -> None:
    """The feed worker and open streams wake when this transaction commits: in this process
    through ``WAKE``, in every process through PostgreSQL ``NOTIFY``. Nothing happens on a
    rollback."""
    if session.info.get(_WAKE):
        return
    session.info[_WAKE] = True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop(_WAKE, False):
        WAKE.notify()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_WAKE, None)
