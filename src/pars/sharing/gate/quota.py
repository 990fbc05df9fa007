"""A partner agency's queries of the day, counted on the audit trail (CONTRACT §7,
`daily_query_limit`), for `core.authorise`."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from pars.audit import AuditAction
from pars.audit.models import AuditEntry

QUERY_ACTIONS = (AuditAction.ARREST_READ, AuditAction.ARREST_SEARCH)

# Core (table columns): the gate reads these with every partner query.
_entries = cast(Table, AuditEntry.__table__)
_entry = _entries.c
# Built once at import, agency a bound parameter (they used to be built, and cached, per agency):
# an entry that counts as a query of the agency ``agency``. The actions as equalities rather than
# an IN list: a list is an "expanding" parameter, rendered into the statement's text at every
# execution, and the gate runs this statement with every partner query.
_MINE = and_(_entry.agency == bindparam("agency"), or_(*(_entry.action == str(a) for a in QUERY_ACTIONS)))
_NEWEST = select(func.max(_entry.seq)).scalar_subquery()
# The hash of the entry counted last, the agency's queries today after it (a range of the
# primary key), the newest entry and its hash: columns of one statement, so all four come from
# one snapshot. The gate reads them beside the agency's agreement (`core.authorise`, one round
# trip); `_AFTER` reads them alone.
FOLLOWING = (
    select(_entry.hash).where(_entry.seq == bindparam("known")).scalar_subquery(),
    select(func.count())
    .select_from(_entries)
    .where(_entry.seq > bindparam("known"), _MINE, _entry.at >= bindparam("midnight"))
    .scalar_subquery(),
    _NEWEST,
    select(_entry.hash).where(_entry.seq == _NEWEST).scalar_subquery(),
)
_AFTER = select(*FOLLOWING)
# The whole day at once: the agency's queries since midnight and the newest entry of the day.
_DAY = select(func.count().filter(_MINE), func.max(_entry.seq)).where(_entry.at >= bindparam("midnight"))


@dataclass(frozen=True)
class _Counted:
    """An agency's queries of one day up to and including the entry ``seq`` (whose hash was ``hash``)."""

    seq: int
    hash: str
    queries: int


class QueryCounts:
    """Each agency's queries of the day, counted on the audit trail without reading the whole
    day on every request (that cost grew with every query of the day).

    The trail is append-only and ``seq`` follows commit order (the head lock), so a count up to
    an entry stays true: this process remembers it per agency and day and counts only the
    entries after it, in one statement that also reads that entry's hash back. If the entry is
    gone or its hash differs (an emptied or restored database), the day is counted again.
    """

    def __init__(self) -> None:
        self._counted: dict[tuple[str, datetime], _Counted] = {}
        self._lock = threading.Lock()

    def remembered(self, agency: str, midnight: datetime) -> _Counted | None:
        """The count this process holds for the agency's day, if any: `FOLLOWING` (with
        `parameters`) brings it up to date."""
        with self._lock:
            return self._counted.get((agency, midnight))

    @staticmethod
    def parameters(agency: str, midnight: datetime, known: _Counted) -> dict[str, Any]:
        return {"known": known.seq, "midnight": midnight, "agency": agency}

    def used(
        self,
        session: Session,
        agency: str,
        midnight: datetime,
        *,
        looked: tuple[_Counted, Sequence[Any]] | None = None,
    ) -> int:
        """The agency's queries since ``midnight``. ``looked``: a count from `remembered` and the
        `FOLLOWING` columns the caller read for it in its own statement (else they are read here)."""
        key = (agency, midnight)
        if looked is None:
            with self._lock:
                known = self._counted.get(key)
            followed = None if known is None else self._since(session, agency, midnight, known)
        else:
            followed = self._follow(*looked)
        counted = followed or self._day(session, agency, midnight)
        with self._lock:
            current = self._counted.get(key)
            if followed is None or current is None or current.seq < counted.seq:
                if current is None:  # a new day: forget the others
                    self._counted = {k: v for k, v in self._counted.items() if k[1] == midnight}
                self._counted[key] = counted
        return counted.queries

    @classmethod
    def _since(cls, session: Session, agency: str, midnight: datetime, known: _Counted) -> _Counted | None:
        return cls._follow(known, session.execute(_AFTER, cls.parameters(agency, midnight, known)).one())

    @staticmethod
    def _follow(known: _Counted, following: Sequence[Any]) -> _Counted | None:
        """The count after ``known`` from the `FOLLOWING` columns, or None to count the day again."""
        known_hash, added, newest, newest_hash = following
        if known_hash != known.hash or newest is None:
            return None
        return _Counted(int(newest), newest_hash, known.queries + int(added or 0))

    @staticmethod
    def _day(session: Session, agency: str, midnight: datetime) -> _Counted:
        queries, last = session.execute(_DAY, {"midnight": midnight, "agency": agency}).one()
        if last is None:  # nothing yet today: count from the newest entry there is
            last = session.scalar(select(func.max(AuditEntry.seq)))
            if last is None:
                return _Counted(0, "", 0)
        digest = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == last))
        return _Counted(int(last), digest or "", int(queries or 0))


# The one process-global cache of the gate. What: per (agency, city midnight), the agency's
# query count up to one audit entry and that entry's hash. Bound: today's entries only (the
# first count of a new day drops every other day's), so at most one per partner agency.
# Invalidated: never needs to be, since the trail only grows; a count whose entry is gone or
# changed (a database emptied or restored) is recounted from the day's start. Without it, each
# partner query would count the whole day's trail (tests/sharing/test_grants; bench/partner_search).
QUERIES = QueryCounts()
