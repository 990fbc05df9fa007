"""The incremental scanner: reads the audit trail after its cursor, counts each query into the
rules' windows, and raises or updates an alert for every window that shows a pattern.

One call of ``scan_once`` is one batch of at most ``limit`` trail entries (by ``seq``) in the
caller's transaction: the tallies, the alerts, their ``oversight.alert_raise`` entries and the
moved cursor commit together. ``scan`` repeats it, one unit of work per batch, until the trail
is read to its end; the worker calls it every PARS_OVERSIGHT_SCAN_SECONDS and
``pars oversight scan`` on demand. Concurrent scanners never count an entry twice: on
PostgreSQL the cursor row is taken ``FOR UPDATE SKIP LOCKED`` (a busy scanner is skipped, not
waited for); on SQLite the write lock every PARS transaction takes already serialises them.
"""

from __future__ import annotations

import gc
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import structlog
from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from pars.audit.chain import CheckpointPolicy
from pars.audit.models import AuditEntry
from pars.auth.models import Agency
from pars.clock import Clock, now
from pars.oversight.alerts import settle
from pars.oversight.groups import group_of
from pars.oversight.models import ScanCursor, Tally
from pars.oversight.rules import RULES, Context, Rule, TallyState
from pars.oversight.trail import PersonMap, Query, read_queries
from pars.oversight.windows import Window
from pars.records.models import Arrest, Person
from pars.settings import Settings
from pars.work import unit_of_work

log = structlog.get_logger()

CURSOR = "detectors"
_BATCH = 500


@dataclass
class ScanResult:
    entries: int = 0  # trail entries read past (every action, not only queries)
    queries: int = 0
    raised: int = 0
    updated: int = 0
    through: int = 0  # the cursor afterwards
    caught_up: bool = True
    busy: bool = False  # another scanner holds the cursor

    def add(self, other: ScanResult) -> None:
        self.entries += other.entries
        self.queries += other.queries
        self.raised += other.raised
        self.updated += other.updated
        self.through = max(self.through, other.through)
        self.caught_up, self.busy = other.caught_up, other.busy


def scan(
    factory: sessionmaker[Session],
    clock: Clock,
    settings: Settings,
    *,
    policy: CheckpointPolicy,
    limit: int | None = None,
) -> ScanResult:
    """Reads the trail to its end, one unit of work per batch of ``limit`` entries."""
    total = ScanResult()
    persons = PersonMap(settings.oversight_recent_arrest_hours)
    while True:
        with collector_paused(), unit_of_work(factory, clock, policy=policy) as session:
            result = scan_once(session, settings, limit=limit or settings.oversight_scan_batch, persons=persons)
        total.add(result)
        if result.caught_up or result.busy:
            break
    if total.raised:
        log.info("oversight alerts raised", raised=total.raised, through=total.through)
    return total


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for one batch. A batch builds tens of thousands
    of queries, tallies and lists that live until it ends; the collector, run every few hundred
    allocations, would walk them again and again (a third of the scan's processor time) to find
    almost no cycles: they are freed by reference counting when the batch ends. Process-wide
    (the worker may be a thread of the server), for one batch's time, and restored as found."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def scan_once(session: Session, settings: Settings, *, limit: int, persons: PersonMap | None = None) -> ScanResult:
    """One batch, in the caller's transaction (see the module's docstring)."""
    cursor = _take_cursor(session)
    if cursor is None:
        return ScanResult(busy=True, caught_up=False)
    head = session.scalar(select(func.max(AuditEntry.seq))) or 0
    start, upto = cursor.seq, min(head, cursor.seq + limit)
    if upto <= start:
        return ScanResult(through=start)
    partners = frozenset(session.scalars(select(Agency.code).where(Agency.kind == "partner")))
    queries = read_queries(session, after=start, upto=upto, partners=partners)
    (persons or PersonMap(settings.oversight_recent_arrest_hours)).fill(session, [q for q in queries if q.records])
    reach = timedelta(days=settings.oversight_baseline_days + 1)
    store = TallyStore(session, settings.oversight_max_evidence, reach)
    arrested = Arrested(session)
    context = Context(settings, partners, store.history, store.first_seen, arrested, arrested.on_file)
    touched = store.count(queries, context)
    store.write()
    raised, updated = settle(session, context, touched)
    cursor.seq, cursor.updated_at = upto, now(session)
    return ScanResult(upto - start, len(queries), raised, updated, upto, caught_up=upto >= head)


def rebuild(session: Session) -> None:
    """Forgets every tally and rewinds the cursor: the next scan counts the whole trail again
    (after a change of thresholds, say). Alerts stay, with their reviews; the rescan finds the
    same ones by key and raises only what the new thresholds add."""
    cursor = _take_cursor(session, wait=True)  # after the batch a running scanner has in hand
    assert cursor is not None
    session.execute(delete(Tally))
    cursor.seq, cursor.updated_at = 0, now(session)


def _take_cursor(session: Session, *, wait: bool = False) -> ScanCursor | None:
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        maker = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(maker(ScanCursor).values(name=CURSOR, seq=0).on_conflict_do_nothing())
    elif session.get(ScanCursor, CURSOR) is None:
        session.add(ScanCursor(name=CURSOR, seq=0))
        session.flush()
    locked = select(ScanCursor).where(ScanCursor.name == CURSOR).with_for_update(skip_locked=not wait)
    return session.scalars(locked).first()


class Arrested:
    """The people arrested in a window by (race, ethnicity), grouped as every disparate-impact table
    groups them (``groups.group_of``):
    the reference population of ``demographic_skew``. One grouped query per window and batch
    (a batch touches one or two weeks), however many users' windows are judged."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._known: dict[Window, Counter[tuple[str, str]]] = {}
        self._on_file: int | None = None

    def on_file(self) -> int:
        """The people with an arrest on file (once per batch)."""
        if self._on_file is None:
            self._on_file = self.session.scalar(select(func.count()).select_from(Person)) or 0
        return self._on_file

    def __call__(self, window: Window) -> Counter[tuple[str, str]]:
        found = self._known.get(window)
        if found is None:
            found = self._known[window] = Counter()
            rows = self.session.execute(
                select(Arrest.race, Arrest.ethnicity, func.count(func.distinct(Arrest.person_id)))
                .where(Arrest.arrested_at >= window.start, Arrest.arrested_at < window.end)
                .group_by(Arrest.race, Arrest.ethnicity)
            )
            for race, ethnicity, people in rows:
                found[group_of(race, ethnicity)] += people
        return found


def tally_key(rule: str, agency: str, subject: str, window: Window) -> str:
    return f"{rule}|{agency}|{subject or '-'}|{window.label}"


class TallyStore:
    """The tallies a batch touches: loaded once, counted into in memory, written back once."""

    def __init__(self, session: Session, cap: int, reach: timedelta) -> None:
        self.session = session
        self.cap = cap
        self.reach = reach  # how far back baselines look
        self.states: dict[str, TallyState] = {}
        self._first: dict[tuple[str, str, str], datetime | None] = {}
        self._history: dict[tuple[str, str, str], list[tuple[datetime, int]]] = {}
        self._unchanged: set[str] = set()  # loaded to be judged again, not counted into
        self._earliest: datetime | None = None  # of the batch's windows
        self._history_from: dict[tuple[str, str, str], datetime] = {}  # whence each history was read
        self._history_read: set[str] = set()  # rules whose history of every subject is read
        self._first_read: set[str] = set()

    def count(self, queries: Iterable[Query], context: Context) -> list[tuple[Rule, TallyState]]:
        """Counts every query into its rules' windows; returns the windows touched, in the order
        first met. Each window's queries are gathered first and handed to its rule at once
        (``Rule.observe_all``), in trail order: the tallies are those of observing one query at
        a time, without a call per query and window."""
        groups: dict[tuple[str, str, str, str], tuple[str, Rule, list[Query]]] = {}
        new: dict[str, tuple[Rule, str, str, Window]] = {}
        everyone = tuple(rule for rule in RULES if not rule.partners_only)
        partners, windows_at = context.partners, context.windows_at
        # (a partner's?, Query.kind) → the rules that count such a query: asked once per kind.
        plans: dict[tuple[bool, tuple[object, ...]], list[tuple[Rule, str, str, bool]]] = {}
        for query in queries:
            agency, user = query.agency, query.user
            kind = (agency in partners, query.kind())
            plan = plans.get(kind)
            if plan is None:
                rules = RULES if kind[0] else everyone
                plan = plans[kind] = [(r, r.slot, r.name, r.per_user) for r in rules if r.counts(query)]
            if not plan:
                continue
            at = windows_at(query.quarter)
            for rule, slot, name, per_user in plan:  # as Rule.windows, each query's windows once
                window = getattr(at, slot)
                if window is None:
                    continue
                label = window.label
                for subject in ("", user) if per_user and user else ("",):
                    found = groups.get((name, agency, subject, label))  # tuples: cheaper than the keys
                    if found is None:
                        key = f"{name}|{agency}|{subject or '-'}|{label}"  # tally_key, inlined
                        groups[name, agency, subject, label] = (key, rule, [query])
                        new[key] = (rule, agency, subject, window)
                    else:
                        found[2].append(query)
        self._load(new)
        touched: dict[str, tuple[Rule, TallyState]] = {}
        states = self.states
        for key, rule, counted in groups.values():
            state = states[key]
            rule.observe_all(state, counted, context)
            touched[key] = (rule, state)
        self._touch_users(touched)
        return list(touched.values())

    def _touch_users(self, touched: dict[str, tuple[Rule, TallyState]]) -> None:
        """A rule that judges users on their own holds back a user's alert while that user made
        all of the agency's entries of the window (``Baselined.sole``); when another user's
        entry grows the agency's window, the first user's window must be judged again, or the
        alerts would depend on the order the trail is read in."""
        wanted: dict[str, tuple[Rule, str, str, Window]] = {}
        for rule, state in list(touched.values()):
            if not rule.per_user or state.subject:
                continue
            for user in state.data.get("users", {}):
                key = tally_key(rule.name, state.agency, user, state.window)
                if key not in touched:
                    wanted[key] = (rule, state.agency, user, state.window)
        if not wanted:
            return
        self._load(wanted)
        for key, (rule, *_) in wanted.items():
            state = self.states[key]
            if state.is_new and not state.count:  # none stored: nothing to judge, nothing to write
                del self.states[key]
            else:
                touched[key] = (rule, state)
                self._unchanged.add(key)

    def _load(self, wanted: dict[str, tuple[Rule, str, str, Window]]) -> None:
        keys = [k for k in wanted if k not in self.states]
        columns = Tally.__table__.c
        for first in range(0, len(keys), _BATCH):
            rows = self.session.execute(select(Tally.__table__).where(columns.key.in_(keys[first : first + _BATCH])))
            for row in rows.mappings():
                self.states[row["key"]] = TallyState(
                    key=row["key"], rule=row["rule"], agency=row["agency"], subject=row["subject"],
                    window=Window(row["window_start"], row["window_end"]), count=row["count"],
                    evidence=list(row["evidence"]), data=dict(row["data"]), is_new=False,
                )  # fmt: skip
        for key in keys:
            if key not in self.states:
                rule, agency, subject, window = wanted[key]
                self.states[key] = TallyState(key, rule.name, agency, subject, window)

    def write(self) -> None:
        """The batch's tallies back, in two statements (Core, many rows each): the new ones
        inserted, the others' counts, evidence and data updated. Windows loaded only to be
        judged again (``_touch_users``) did not change and are not written."""
        fresh, known = [], []
        for key, state in self.states.items():
            if key in self._unchanged:
                continue
            if state.is_new:
                fresh.append({"key": key, "rule": state.rule, "agency": state.agency, "subject": state.subject,
                              "window_start": state.window.start, "window_end": state.window.end,
                              "count": state.count, "evidence": state.evidence, "data": state.data})  # fmt: skip
                state.is_new = False
            else:
                known.append({"tally_key": key, "count": state.count, "evidence": state.evidence, "data": state.data})
        table = cast(Table, Tally.__table__)
        if fresh:
            self.session.execute(insert(table), fresh)
        if known:
            self.session.execute(update(table).where(table.c.key == bindparam("tally_key")), known)

    def history(
        self, rule: str, agency: str, subject: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, int]]:
        """Earlier windows of a subject, for baselines, from ``reach`` before the batch's earliest
        window on, read after the batch's own counts were written. Asked of a rule the first
        time, the windows of every subject the batch holds are read at once (one statement per
        rule and batch, not one per subject: a batch judges thousands of windows)."""
        key = (rule, agency, subject)
        known = self._history.get(key)
        if known is None or start < self._history_from[key]:
            if self._earliest is None:  # the batch's windows are all known by the time it judges
                self._earliest = min((s.window.start for s in self.states.values()), default=None)
            since = min(start, self._earliest - self.reach) if self._earliest is not None else start
            if rule not in self._history_read:
                self._history_read.add(rule)
                self._read_history(rule, since)
                known = self._history.get(key)
            if known is None or start < self._history_from[key]:  # a subject not held, or from earlier
                rows = self.session.execute(
                    select(Tally.window_start, Tally.count)
                    .where(Tally.rule == rule, Tally.agency == agency, Tally.subject == subject,
                           Tally.window_start >= since)
                    .order_by(Tally.window_start)
                )  # fmt: skip
                known = self._history[key] = [(at, count) for at, count in rows]
                self._history_from[key] = since
        starts = [at for at, _ in known]
        return known[bisect_left(starts, start) : bisect_left(starts, end)]

    def _subjects(self) -> list[tuple[str, str]]:
        """The (agency, subject) pairs of the batch's tallies, in a stable order."""
        return sorted({(state.agency, state.subject) for state in self.states.values()})

    def _read_history(self, rule: str, since: datetime) -> None:
        """``history`` of every subject of the batch for ``rule``: each subject's windows from
        ``since`` on, by start (the list is empty for a subject without any)."""
        pairs = self._subjects()
        for first in range(0, len(pairs), _BATCH):
            chunk = pairs[first : first + _BATCH]
            for pair in chunk:
                self._history[(rule, *pair)] = []
                self._history_from[(rule, *pair)] = since
            rows = self.session.execute(
                select(Tally.agency, Tally.subject, Tally.window_start, Tally.count)
                .where(Tally.rule == rule, Tally.agency.in_(sorted({a for a, _ in chunk})),
                       Tally.subject.in_(sorted({s for _, s in chunk})), Tally.window_start >= since)
                .order_by(Tally.agency, Tally.subject, Tally.window_start)
            )  # fmt: skip
            for agency, subject, at, count in rows:
                found = self._history.get((rule, agency, subject))
                if found is not None:  # the IN lists pair some agencies with others' users
                    found.append((at, count))

    def first_seen(self, rule: str, agency: str, subject: str) -> datetime | None:
        """The start of the subject's first window of ``rule``, ever. As ``history``: read for
        every subject of the batch the first time a rule is asked."""
        key = (rule, agency, subject)
        if key not in self._first:
            if rule not in self._first_read:
                self._first_read.add(rule)
                pairs = self._subjects()
                for first in range(0, len(pairs), _BATCH):
                    chunk = pairs[first : first + _BATCH]
                    for pair in chunk:
                        self._first[(rule, *pair)] = None
                    rows = self.session.execute(
                        select(Tally.agency, Tally.subject, func.min(Tally.window_start))
                        .where(Tally.rule == rule, Tally.agency.in_(sorted({a for a, _ in chunk})),
                               Tally.subject.in_(sorted({s for _, s in chunk})))
                        .group_by(Tally.agency, Tally.subject)
                    )  # fmt: skip
                    for agency_, subject_, at in rows:
                        if (rule, agency_, subject_) in self._first:
                            self._first[(rule, agency_, subject_)] = at
            if key not in self._first:  # a subject the batch does not hold: asked alone
                self._first[key] = self.session.scalar(
                    select(func.min(Tally.window_start)).where(
                        Tally.rule == rule, Tally.agency == agency, Tally.subject == subject
                    )
                )
        return self._first[key]
