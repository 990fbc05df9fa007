"""What every misuse rule is made of: the window tally it counts into, the finding it judges,
the context of one scan batch, and the baselined rule that compares a window with the
subject's own history (docs/oversight.md). The rules themselves are in ``rules``,
``rules_cases`` and ``skew``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pars.oversight import windows
from pars.oversight.trail import Query
from pars.oversight.windows import Window
from pars.settings import Settings


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


SEVERITY_ORDER = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2}


@dataclass
class TallyState:
    """One window's running count, as loaded from ``oversight_tallies`` or new."""

    key: str
    rule: str
    agency: str
    subject: str
    window: Window
    count: int = 0
    evidence: list[int] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    is_new: bool = True
    # Sets over lists of ``data`` (which must stay JSON), built once per batch, not per query.
    _sets: dict[str, set[str]] = field(default_factory=dict, compare=False, repr=False)

    def distinct(self, name: str, items: list[str]) -> set[str]:
        """The set of ``items`` (a list in ``data``, known as ``name``), kept with it by whoever
        appends to the list."""
        known = self._sets.get(name)
        if known is None:
            known = self._sets[name] = set(items)
        return known

    def extend_distinct(self, name: str, items: list[str], new: list[str]) -> None:
        """Appends to ``items`` (a list in ``data``, known as ``name``) those of ``new`` it lacks."""
        known = self.distinct(name, items)
        for item in new:
            if item not in known:
                known.add(item)
                items.append(item)

    def add(self, query: Query, cap: int) -> None:
        self.count += 1
        if len(self.evidence) < cap:
            self.evidence.append(query.seq)
        if query.user:
            users = self.data.setdefault("users", {})
            users[query.user] = users.get(query.user, 0) + 1

    def add_all(self, queries: list[Query], cap: int) -> None:
        """``add`` of each of ``queries`` in turn, in one step."""
        self.count += len(queries)
        room = cap - len(self.evidence)
        if room > 0:
            self.evidence.extend(query.seq for query in queries[:room])
        users: dict[str, int] | None = None
        for query in queries:
            if query.user:
                if users is None:
                    users = self.data.setdefault("users", {})
                users[query.user] = users.get(query.user, 0) + 1

    def bump(self, name: str, by: int = 1) -> None:
        self.data[name] = self.data.get(name, 0) + by

    @property
    def sole_user(self) -> str | None:
        users = self.data.get("users") or {}
        return next(iter(users)) if len(users) == 1 else None


@dataclass(frozen=True)
class Finding:
    severity: Severity
    summary: str
    evidence: list[int]
    details: dict[str, Any]
    # The one user whose entries the evidence is, when the rule knows it better than the
    # window does (the window may hold several users' entries, the pattern only one's).
    user: str | None = None


# (rule, agency, subject, from, to) → [(window start, count)] of earlier windows; and the
# start of the subject's first window of a rule, ever.
History = Callable[[str, str, str, datetime, datetime], list[tuple[datetime, int]]]
FirstSeen = Callable[[str, str, str], datetime | None]
# A window → distinct people arrested in it, by (race, ethnicity) as ``groups.group_of`` has them.
Population = Callable[[Window], Counter[tuple[str, str]]]


def no_population(window: Window) -> Counter[tuple[str, str]]:
    return Counter()


@dataclass(frozen=True, slots=True)
class QuarterWindows:
    """Every window the rules count in for one quarter hour (``windows.quarter_of``)."""

    day: Window
    block: Window
    night: Window | None
    scope: Window
    repeat: Window
    skew: Window


@dataclass(frozen=True)
class Context:
    settings: Settings
    partners: frozenset[str]
    history: History
    first_seen: FirstSeen
    population: Population = no_population
    # How many people the city has on file: how likely one is looked up again by chance.
    on_file: Callable[[], int] = lambda: 0
    # quarter → its windows: the scan asks for them for every query and every rule, and a batch
    # spans only a few hundred quarter hours.
    _windows: dict[int, QuarterWindows] = field(default_factory=dict, compare=False, repr=False)
    # (local date, hour) → the same: every window is cut from those two alone (``windows``).
    _by_hour: dict[tuple[date, int], QuarterWindows] = field(default_factory=dict, compare=False, repr=False)

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone

    def windows_at(self, quarter: int) -> QuarterWindows:
        found = self._windows.get(quarter)
        if found is not None:
            return found
        hour = windows.hour_of(quarter, self.zone)
        found = self._by_hour.get(hour)
        if found is None:
            s, zone = self.settings, self.zone
            found = self._by_hour[hour] = QuarterWindows(
                day=windows.day(quarter, zone),
                block=windows.block(quarter, zone, s.oversight_broad_search_hours),
                night=windows.night(quarter, zone, s.oversight_night_start_hour, s.oversight_night_end_hour),
                scope=windows.span(quarter, zone, s.oversight_scope_window_days),
                repeat=windows.span(quarter, zone, s.oversight_repeat_window_days),
                skew=windows.span(quarter, zone, s.oversight_skew_window_days),
            )
        self._windows[quarter] = found
        return found

    def city_date(self, instant: datetime) -> str:
        return instant.astimezone(self.zone).strftime("%a %Y-%m-%d")

    def graded(self, value: float, threshold: float) -> Severity:
        return Severity.HIGH if value >= threshold * self.settings.oversight_high_factor else Severity.MEDIUM


class Rule:
    name: ClassVar[str]
    partners_only: ClassVar[bool] = True
    per_user: ClassVar[bool] = False  # counts each user's own windows besides the agency's

    # Which of the quarter's windows (``QuarterWindows``) the rule counts in.
    slot: ClassVar[str]

    def counts(self, query: Query) -> bool:
        """Whether this query counts in the rule's window. It may look only at what
        ``Query.kind`` holds: the scan asks once per kind of query, not per query."""
        raise NotImplementedError

    def windows(self, query: Query, ctx: Context) -> list[tuple[str, Window]]:
        """The (subject, window) pairs this query counts in; subject "" is the whole agency, and
        a per-user rule counts the query in its user's window too."""
        window = getattr(ctx.windows_at(query.quarter), self.slot) if self.counts(query) else None
        if window is None:
            return []
        return [("", window), (query.user, window)] if self.per_user and query.user else [("", window)]

    def observe(self, tally: TallyState, query: Query, ctx: Context) -> None:
        tally.add(query, ctx.settings.oversight_max_evidence)

    def observe_all(self, tally: TallyState, queries: list[Query], ctx: Context) -> None:
        """``observe`` of each of ``queries`` (in trail order) in turn; in one step for a rule
        that observes no more than the count, the evidence and the users."""
        if type(self).observe is Rule.observe:
            tally.add_all(queries, ctx.settings.oversight_max_evidence)
            return
        observe = self.observe
        for query in queries:
            observe(tally, query, ctx)

    def judge(self, tally: TallyState, ctx: Context) -> Finding | None:
        raise NotImplementedError


class Baselined(Rule):
    """A rule that compares a window with the subject's own earlier windows of the same rule,
    over PARS_OVERSIGHT_BASELINE_DAYS, once it has PARS_OVERSIGHT_BASELINE_MIN_DAYS of history
    (a subject with less has no pattern yet, and is not judged)."""

    def baseline(self, tally: TallyState, ctx: Context, *, since_rule: str, of_rule: str | None = None) -> float | None:
        """The subject's mean count per day before this window (of this rule's tallies, or of
        ``of_rule``'s), or None without enough history. History is counted from the subject's
        first window of ``since_rule``."""
        settings = ctx.settings
        first = ctx.first_seen(since_rule, tally.agency, tally.subject)
        if first is None:
            return None
        start = tally.window.start - timedelta(days=settings.oversight_baseline_days)
        observed = windows.city_days_between(max(first, start), tally.window.start, ctx.zone)
        if observed < settings.oversight_baseline_min_days:
            return None
        earlier = ctx.history(of_rule or self.name, tally.agency, tally.subject, start, tally.window.start)
        return sum(count for _, count in earlier) / observed

    def sole(self, tally: TallyState, ctx: Context) -> bool:
        """A user's window whose entries are all of the agency's same window: the agency's
        alert, which names that user, is the same pattern."""
        agency = ctx.history(self.name, tally.agency, "", tally.window.start, tally.window.end)
        return bool(agency) and agency[0][1] == tally.count


def times(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}es" if noun.endswith("h") else f"{count} {noun}s"


def who(tally: TallyState) -> str:
    """The agency, or its user for a per-user window."""
    return f"{tally.agency} user {tally.subject}" if tally.subject else tally.agency
