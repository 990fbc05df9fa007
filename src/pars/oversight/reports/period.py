"""Periods and the streaming read of the trail that both reports share."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.audit.periods import parse_bound
from pars.errors import Invalid

_STREAM = 2000


@dataclass(frozen=True)
class Period:
    """``start`` inclusive, ``end`` exclusive, as instants."""

    start: datetime
    end: datetime

    @classmethod
    def parse(cls, start: str, end: str, *, zone: ZoneInfo) -> Period:
        """Dates are city days, both included; instants carry an offset (CONTRACT §10)."""
        period = cls(
            parse_bound(start, zone=zone, field="from", end=False), parse_bound(end, zone=zone, field="to", end=True)
        )
        if period.end <= period.start:
            raise Invalid.one("to", "must be after from")
        return period

    def shown(self, zone: ZoneInfo) -> dict[str, str]:
        return {"from": self.start.astimezone(zone).isoformat(), "to": self.end.astimezone(zone).isoformat()}


@dataclass(frozen=True, slots=True)
class Row:
    seq: int
    at: datetime
    agency: str
    action: str
    ok: bool
    details: dict[str, Any]


def stream_entries(
    session: Session, period: Period, *, actions: Sequence[str], agencies: Sequence[str] | None = None
) -> Iterator[Row]:
    """The period's entries of these actions, in trail order, a few thousand rows at a time."""
    c = AuditEntry.__table__.c
    query = select(c.seq, c.at, c.agency, c.action, c.outcome, c.details).where(
        c.at >= period.start, c.at < period.end, c.action.in_(list(actions))
    )
    if agencies is not None:
        query = query.where(c.agency.in_(list(agencies)))
    result = session.execute(query.order_by(c.seq).execution_options(yield_per=_STREAM))
    for seq, at, agency, action, outcome, details in result:
        yield Row(seq, at, agency, action, outcome == "ok", details)


def month_of(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%Y-%m")


def months_between(period: Period, zone: ZoneInfo) -> list[str]:
    first, last = period.start.astimezone(zone), period.end.astimezone(zone)
    months, year, month = [], first.year, first.month
    # ``end`` is exclusive: a period ending at a month's first midnight does not reach into it.
    while (year, month) < (last.year, last.month) or (
        (year, month) == (last.year, last.month)
        and last > last.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    ):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
