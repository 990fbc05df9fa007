"""The windows the rules count in, cut in the jurisdiction's time (PARS_TIMEZONE).

Windows are fixed, not sliding: the same instant always falls in the same window, so an alert
raised for a window can be found again by its key however often, and in whatever order, the
trail is read. Bounds are computed from local wall-clock times, so a window keeps its meaning
across daylight-saving changes (a city day is then 23 or 25 hours long).

Which window an instant falls in depends only on its local date and hour, and every time zone's
offset is a whole number of quarter hours, so each answer is computed once per quarter hour of
UTC and remembered: the scanner asks millions of times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

# Multi-day windows are counted from a Monday, so seven-day windows are calendar weeks.
EPOCH = date(2001, 1, 1)
QUARTER = 900  # seconds
_CACHED = 200_000


@dataclass(frozen=True)
class Window:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive

    @cached_property
    def label(self) -> str:
        return self.start.strftime("%Y-%m-%dT%H:%MZ")


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    if hour == 24:
        day, hour = day + timedelta(days=1), 0
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def quarter_of(instant: datetime) -> int:
    """The quarter hour holding ``instant``, counted from 1970 (UTC); every function below takes
    an instant or, cheaper when asked many times about one instant, this number."""
    # Through the POSIX timestamp: several times cheaper than dividing timedeltas, and exact,
    # since a quarter-hour boundary is a whole number of seconds.
    return int(instant.timestamp() // QUARTER)


def _quarter(when: datetime | int) -> int:
    return when if isinstance(when, int) else quarter_of(when)


@lru_cache(maxsize=_CACHED)
def _local(quarter: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(quarter * QUARTER, UTC).astimezone(zone)


def hour_of(quarter: int, zone: ZoneInfo) -> tuple[date, int]:
    """The local date and hour of a quarter hour: all that decides which windows it falls in."""
    moment = _local(quarter, zone)
    return moment.date(), moment.hour


def local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone)


def day(instant: datetime | int, zone: ZoneInfo) -> Window:
    return _day(_local(_quarter(instant), zone).date(), zone)


@lru_cache(maxsize=_CACHED)
def _day(today: date, zone: ZoneInfo) -> Window:
    return Window(_at(today, 0, zone), _at(today, 24, zone))


def block(instant: datetime | int, zone: ZoneInfo, hours: int) -> Window:
    """The ``hours``-long part of the city day holding ``instant`` (``hours`` divides 24)."""
    moment = _local(_quarter(instant), zone)
    return _block(moment.date(), moment.hour // hours * hours, hours, zone)


@lru_cache(maxsize=_CACHED)
def _block(today: date, first: int, hours: int, zone: ZoneInfo) -> Window:
    return Window(_at(today, first, zone), _at(today, first + hours, zone))


def night(instant: datetime | int, zone: ZoneInfo, start_hour: int, end_hour: int) -> Window | None:
    """The night holding ``instant``, or None in the daytime. A night that crosses midnight
    belongs to the date it starts on."""
    moment = _local(_quarter(instant), zone)
    today, hour = moment.date(), moment.hour
    if start_hour < end_hour:
        return _night(today, start_hour, end_hour, zone) if start_hour <= hour < end_hour else None
    if hour >= start_hour:
        return _night(today, start_hour, end_hour, zone)
    if hour < end_hour:
        return _night(today - timedelta(days=1), start_hour, end_hour, zone)
    return None


@lru_cache(maxsize=_CACHED)
def _night(first: date, start_hour: int, end_hour: int, zone: ZoneInfo) -> Window:
    last = first if start_hour < end_hour else first + timedelta(days=1)
    return Window(_at(first, start_hour, zone), _at(last, end_hour, zone))


def span(instant: datetime | int, zone: ZoneInfo, days: int) -> Window:
    """The ``days``-long window holding ``instant``, counted in whole city days from a Monday."""
    today = _local(_quarter(instant), zone).date()
    return _span(EPOCH + timedelta(days=(today - EPOCH).days // days * days), days, zone)


@lru_cache(maxsize=_CACHED)
def _span(first: date, days: int, zone: ZoneInfo) -> Window:
    return Window(_at(first, 0, zone), _at(first + timedelta(days=days), 0, zone))


def city_days_between(start: datetime, end: datetime, zone: ZoneInfo) -> int:
    """Whole city days from ``start`` to ``end`` (both window starts at local midnight)."""
    return (local(end, zone).date() - local(start, zone).date()).days
