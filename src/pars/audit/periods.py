"""Reading the ``from``/``to`` of a period: a date (city time, inclusive) or an instant."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pars.errors import Invalid
from pars.inputs import EARLIEST, LATEST, OUT_OF_RANGE


def within_range(instant: datetime, field: str) -> datetime:
    """``instant`` (with an offset) as it is, or a 422 naming ``field`` (`pars.inputs.EARLIEST`)."""
    if not EARLIEST <= instant <= LATEST:
        raise Invalid.one(field, OUT_OF_RANGE)
    return instant


def parse_bound(text: str, *, zone: ZoneInfo, field: str, end: bool) -> datetime:
    """``2026-03-17`` means that whole day in the jurisdiction's time zone, so as an end it is
    the next midnight there (returned bounds are always: from inclusive, to exclusive). An
    instant must carry an offset and is taken as it is."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        if not EARLIEST.year <= day.year < LATEST.year:
            raise Invalid.one(field, OUT_OF_RANGE)
        return datetime.combine(day + timedelta(days=1) if end else day, time(0), tzinfo=zone)
    try:
        instant = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Invalid.one(field, "must be a date YYYY-MM-DD or an ISO 8601 time with offset") from exc
    if instant.tzinfo is None:
        raise Invalid.one(field, "must carry an offset")
    return within_range(instant, field)
