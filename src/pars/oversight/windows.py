"""The windows the rules count in, cut in the jurisdiction's time (PARS_TIMEZONE).

Windows are fixed, not sliding: the same instant always falls in the same window, so an alert
raised for a window can be found again by its key however often, and in whatever order, the
trail is read. Bounds are computed from local wall-clock times, so a window keeps its meaning
across daylight-saving changes (a city day is then 23 or 25 hours long).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Multi-day windows are counted from a Monday, so seven-day windows are calendar weeks.
EPOCH = date(2001, 1, 1)


@dataclass(frozen=True)
class Window:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive

    @property
    def label(self) -> str:
        return self.start.strftime("%Y-%m-%dT%H:%MZ")


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    if hour == 24:
        day, hour = day + timedelta(days=1), 0
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone)


def day(instant: datetime, zone: ZoneInfo) -> Window:
    today = local(instant, zone).date()
    return Window(_at(today, 0, zone), _at(today, 24, zone))


def block(instant: datetime, zone: ZoneInfo, hours: int) -> Window:
    """The ``hours``-long part of the city day holding ``instant`` (``hours`` divides 24)."""
    moment = local(instant, zone)
    first = moment.hour // hours * hours
    return Window(_at(moment.date(), first, zone), _at(moment.date(), first + hours, zone))


def night(instant: datetime, zone: ZoneInfo, start_hour: int, end_hour: int) -> Window | None:
    """The night holding ``instant``, or None in the daytime. A night that crosses midnight
    belongs to the date it starts on."""
    moment = local(instant, zone)
    today, hour = moment.date(), moment.hour
    if start_hour < end_hour:
        return (
            Window(_at(today, start_hour, zone), _at(today, end_hour, zone)) if start_hour <= hour < end_hour else None
        )
    if hour >= start_hour:
        return Window(_at(today, start_hour, zone), _at(today + timedelta(days=1), end_hour, zone))
    if hour < end_hour:
        yesterday = today - timedelta(days=1)
        return Window(_at(yesterday, start_hour, zone), _at(today, end_hour, zone))
    return None


def span(instant: datetime, zone: ZoneInfo, days: int) -> Window:
    """The ``days``-long window holding ``instant``, counted in whole city days from a Monday."""
    today = local(instant, zone).date()
    first = EPOCH + timedelta(days=(today - EPOCH).days // days * days)
    return Window(_at(first, 0, zone), _at(first + timedelta(days=days), 0, zone))


def city_days_between(start: datetime, end: datetime, zone: ZoneInfo) -> int:
    """Whole city days from ``start`` to ``end`` (both window starts at local midnight)."""
    return (local(end, zone).date() - local(start, zone).date()).days
