"""Periods and the streaming read of the trail that both reports share."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, Text, select, type_coerce
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.audit.periods import parse_bound
from pars.errors import Invalid
from pars.oversight.windows import quarter_of

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
    """The period's entries of these actions, in trail order, a few thousand rows at a time.
    On SQLite the instant and the details are decoded here from their stored text, as the
    scanner does (``pars.oversight.trail``): much cheaper over a year of trail."""
    c = AuditEntry.__table__.c
    raw = session.get_bind().dialect.name == "sqlite"
    at, details = (type_coerce(c.at, String), type_coerce(c.details, Text)) if raw else (c.at, c.details)
    query = select(c.seq, at, c.agency, c.action, c.outcome, details).where(
        c.at >= period.start, c.at < period.end, c.action.in_(list(actions))
    )
    if agencies is not None:
        query = query.where(c.agency.in_(list(agencies)))
    result = session.execute(query.order_by(c.seq).execution_options(yield_per=_STREAM))
    for seq, stored_at, agency, action, outcome, stored in result:
        if raw:
            yield Row(seq, datetime.fromisoformat(stored_at).replace(tzinfo=UTC), agency, action, outcome == "ok",
                      json.loads(stored))  # fmt: skip
        else:
            yield Row(seq, stored_at, agency, action, outcome == "ok", stored)


def month_of(instant: datetime, zone: ZoneInfo) -> str:
    """``YYYY-MM`` in city time; asked for every entry of a year, so remembered per quarter hour."""
    return _month(quarter_of(instant), zone)


@lru_cache(maxsize=100_000)
def _month(quarter: int, zone: ZoneInfo) -> str:
    return (datetime.fromtimestamp(quarter * 900, UTC).astimezone(zone)).strftime("%Y-%m")


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
