"""The one source of "now" (DESIGN principle 4).

Every unit of work (request, job, command) is opened with a clock and carries it on its session
(``session.info[CLOCK]``, set by ``pars.work`` only), because every service already takes the session: services ask
``now(session)`` and never call ``datetime.now`` themselves. Tests hand in a ``FrozenClock`` and
move it across expiries and daylight-saving changes instead of sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from pars.errors import OutsideUnitOfWork

# Key in Session.info.
CLOCK = "pars.clock"


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = as_utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = as_utc(instant)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: every instant in PARS carries an offset")
    return instant.astimezone(UTC)


def now(session: Session) -> datetime:
    """Raises `OutsideUnitOfWork` for a session opened without a clock: there is no default."""
    try:
        clock: Clock = session.info[CLOCK]
    except KeyError:
        raise OutsideUnitOfWork("clock") from None
    return clock.now()
