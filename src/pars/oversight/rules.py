"""The misuse detectors: one small rule each, thresholds from settings (docs/oversight.md).

A rule says, for each query on the trail, which windows it counts in (``windows``), what it
adds there (``observe``), and, looking at a window's tally, whether it is a pattern worth an
alert (``judge``). Tallies only grow, so the same window judged again after more entries
gives the same alert with more evidence, never a second alert.

Rules look at partner agencies only, except ``protected_field_probe``: searching by place of
birth is a probe whoever does it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pars.oversight import windows
from pars.oversight.trail import Query
from pars.oversight.windows import Window
from pars.settings import Settings
from pars.sharing.vocabulary import Refused


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


SEVERITY_ORDER = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2}

# Record fields whose use as a search key is profiling, beyond PARS_PROTECTED_FIELDS itself.
SENSITIVE_PARAMETERS = frozenset(
    {
        "place_of_birth", "birthplace", "country_of_birth", "citizenship", "nationality",
        "immigration_status", "ssn", "race", "ethnicity", "sex", "gender", "language", "victims", "witnesses",
    }
)  # fmt: skip
PROTECTED_PROBE = "protected_field_probe"


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

    def add(self, query: Query, cap: int) -> None:
        self.count += 1
        if len(self.evidence) < cap:
            self.evidence.append(query.seq)
        if query.user:
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


# (rule, agency, subject, from, to) → [(window start, count)] of earlier windows; and the
# start of the subject's first window of a rule, ever.
History = Callable[[str, str, str, datetime, datetime], list[tuple[datetime, int]]]
FirstSeen = Callable[[str, str, str], datetime | None]


@dataclass(frozen=True, slots=True)
class QuarterWindows:
    """Every window the rules count in for one quarter hour (``windows.quarter_of``)."""

    day: Window
    block: Window
    night: Window | None
    scope: Window
    repeat: Window


@dataclass(frozen=True)
class Context:
    settings: Settings
    partners: frozenset[str]
    history: History
    first_seen: FirstSeen
    # quarter → its windows: the scan asks for them for every query and every rule, and a batch
    # spans only a few hundred quarter hours.
    _windows: dict[int, QuarterWindows] = field(default_factory=dict, compare=False, repr=False)

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone

    def windows_at(self, quarter: int) -> QuarterWindows:
        found = self._windows.get(quarter)
        if found is None:
            s, zone = self.settings, self.zone
            found = self._windows[quarter] = QuarterWindows(
                day=windows.day(quarter, zone),
                block=windows.block(quarter, zone, s.oversight_broad_search_hours),
                night=windows.night(quarter, zone, s.oversight_night_start_hour, s.oversight_night_end_hour),
                scope=windows.span(quarter, zone, s.oversight_scope_window_days),
                repeat=windows.span(quarter, zone, s.oversight_repeat_window_days),
            )
        return found

    def city_date(self, instant: datetime) -> str:
        return instant.astimezone(self.zone).strftime("%a %Y-%m-%d")

    def graded(self, value: float, threshold: float) -> Severity:
        return Severity.HIGH if value >= threshold * self.settings.oversight_high_factor else Severity.MEDIUM


class Rule:
    name: ClassVar[str]
    partners_only: ClassVar[bool] = True

    def windows(self, query: Query, ctx: Context) -> list[tuple[str, Window]]:
        """The (subject, window) pairs this query counts in; subject "" is the whole agency."""
        raise NotImplementedError

    def observe(self, tally: TallyState, query: Query, ctx: Context) -> None:
        tally.add(query, ctx.settings.oversight_max_evidence)

    def judge(self, tally: TallyState, ctx: Context) -> Finding | None:
        raise NotImplementedError


class NoCaseReference(Rule):
    """Queries answered without a case reference, or refused for lacking one the agreement
    requires, at least PARS_OVERSIGHT_NO_CASE_MIN in a city day. An agreement may allow them;
    a run of them is still queries nobody can tie to a case."""

    name = "no_case_reference"

    def windows(self, query: Query, ctx: Context) -> list[tuple[str, Window]]:
        lacking = (query.ok and not query.case) or query.reason == Refused.CASE_REFERENCE
        return [("", ctx.windows_at(query.quarter).day)] if lacking else []

    def observe(self, tally: TallyState, query: Query, ctx: Context) -> None:
        super().observe(tally, query, ctx)
        tally.bump("answered" if query.ok else "refused")

    def judge(self, tally: TallyState, ctx: Context) -> Finding | None:
        threshold = ctx.settings.oversight_no_case_min
        if tally.count < threshold:
            return None
        answered, refused = tally.data.get("answered", 0), tally.data.get("refused", 0)
        summary = (
            f"{tally.agency} made {tally.count} queries without a case reference on "
            f"{ctx.city_date(tally.window.start)} ({answered} answered, {refused} refused for lacking one)"
        )
        return Finding(ctx.graded(tally.count, threshold), summary, tally.evidence, {"answered": answered,
                       "refused": refused, "threshold": threshold})  # fmt: skip


class BroadSearch(Rule):
    """Many different people looked up in a short window under one case reference, or under
    none: at least PARS_OVERSIGHT_BROAD_SEARCH_PEOPLE in one block of
    PARS_OVERSIGHT_BROAD_SEARCH_HOURS of the city day. A busy partner working many cases, each
    with its own reference, is not a sweep; a sweep without any case is high severity."""

    name = "broad_search"

    def windows(self, query: Query, ctx: Context) -> list[tuple[str, Window]]:
        if not query.ok:
            return []
        return [("", ctx.windows_at(query.quarter).block)]

    def observe(self, tally: TallyState, query: Query, ctx: Context) -> None:
        super().observe(tally, query, ctx)
        case = tally.data.setdefault("cases", {}).setdefault(query.case, {"people": [], "seqs": []})
        known = set(case["people"])
        case["people"].extend(p for p in query.people() if p not in known)
        if len(case["seqs"]) < ctx.settings.oversight_max_evidence:
            case["seqs"].append(query.seq)

    def judge(self, tally: TallyState, ctx: Context) -> Finding | None:
        threshold = ctx.settings.oversight_broad_search_people
        cases: dict[str, dict[str, list[Any]]] = tally.data.get("cases", {})
        broad = {case: len(v["people"]) for case, v in cases.items() if len(v["people"]) >= threshold}
        if not broad:
            return None
        people = max(broad.values())
        severity = Severity.HIGH if "" in broad else ctx.graded(people, threshold)
        local = tally.window.start.astimezone(ctx.zone)
        end = tally.window.end.astimezone(ctx.zone)
        how = "without any case reference" if "" in broad else "under a single case reference"
        summary = (
            f"{tally.agency} looked up {people} different people {how} between {local:%H:%M} and {end:%H:%M} on "
            f"{ctx.city_date(tally.window.start)}"
        )
        evidence = sorted({s for case in broad for s in cases[case]["seqs"]})
        details = {"people": people, "threshold": threshold, "cases_over_threshold": len(broad),
                   "without_case_reference": "" in broad}  # fmt: skip
        return Finding(severity, summary, evidence, details)


class ProtectedFieldProbe(Rule):
    """Attempts to search by a record field that is no search parameter (place of birth,
    citizenship, race, …), refused and audited as probes: PARS_OVERSIGHT_PROBE_MIN in a city
    day (default 1: every such attempt is worth a look). Searches by parameters whose field the
    agreement does not grant count too, from PARS_OVERSIGHT_UNGRANTED_PROBE_MIN a day."""

    name = "protected_field_probe"
    partners_only = False

    def windows(self, query: Query, ctx: Context) -> list[tuple[str, Window]]:
        if query.ok or query.reason not in (PROTECTED_PROBE, Refused.PARAMETER):
            return []
        return [("", ctx.windows_at(query.quarter).day)]

    def observe(self, tally: TallyState, query: Query, ctx: Context) -> None:
        super().observe(tally, query, ctx)
        names = tally.data.setdefault("parameters", {})
        for name in query.parameters:
            names[name] = names.get(name, 0) + 1
        if query.reason == Refused.PARAMETER:
            tally.bump("ungranted")
            return
        tally.bump("probes")
        sensitive = SENSITIVE_PARAMETERS | {f.rsplit(".", 1)[-1] for f in ctx.settings.protected_fields}
        if any(p.rsplit(".", 1)[-1].lower() in sensitive for p in query.parameters):
            tally.bump("sensitive")

    def judge(self, tally: TallyState, ctx: Context) -> Finding | None:
        probes, sensitive, ungranted = (tally.data.get(k, 0) for k in ("probes", "sensitive", "ungranted"))
        names = ", ".join(sorted(tally.data.get("parameters", {})))
        day = ctx.city_date(tally.window.start)
        details = {"probes": probes, "sensitive": sensitive, "ungranted": ungranted,
                   "parameters": tally.data.get("parameters", {})}  # fmt: skip
        if probes >= ctx.settings.oversight_probe_min:
            severity = Severity.HIGH if sensitive else Severity.MEDIUM
            summary = f"{tally.agency} made {_times(probes, 'attempt')} to search by record fields ({names}) on {day}"
            return Finding(severity, summary, tally.evidence, details)
        if ungranted >= ctx.settings.oversight_ungranted_probe_min:
            searches = _times(ungranted, "search")
            summary = f"{tally.agency} made {searches} by fields its agreement does not grant ({names}) on {day}"
            return Finding(Severity.LOW, summary, tally.evidence, details)
        return None


class _Baselined(Rule):
    """A rule that compares a window with the subject's own earlier windows of the same rule,
    over PARS_OVERSIGHT_BASELINE_DAYS, once it has PARS_OVERSIGHT_BASELINE_MIN_DAYS of history
    (a subject with less has no pattern yet, and is not judged)."""

    def baseline(self, tally: TallyState, ctx: Context, *, since_rule: str) -> float | None:
        """The subject's mean count per day before this window, or None without enough history."""
        settings = ctx.settings
        first = ctx.first_seen(since_rule, tally.agency, tally.subject)
        if first is None:
            return None
        start = tally.window.start - timedelta(days=settings.oversight_baseline_days)
        observed = windows.city_days_between(max(first, start), tally.window.start, ctx.zone)
        if observed < settings.oversight_baseline_min_days:
            return None
        earlier = ctx.history(self.name, tally.agency, tally.subject, start, tally.window.start)
        return sum(count for _, count in earlier) / observed


class VolumeSpike(_Baselined):
    """An agency's (or one user's) queries in a city day at least PARS_OVERSIGHT_VOLUME_FACTOR
    times its own daily mean over the baseline, and at least PARS_OVERSIGHT_VOLUME_MIN."""

    name = "volume_spike"

    def windows(self, query: Query, ctx: Context) -> list[tuple[str, Window]]:
        window = ctx.windows_at(query.quarter).day
        return [("", window), (query.user, window)] if query.user else [("", window)]

    def judge(self, tally: TallyState, ctx: Context) -> Finding | None:
        settings = ctx.settings
        if tally.count < settings.oversight_volume_min:
            return None
        # One user who made all of the agency's queries that day is the agency's own alert.
        if tally.subject and self._sole(tally, ctx):
            return None
        mean = self.baseline(tally, ctx, since_rule=self.name)
        if mean is None:
            return None
        threshold = max(settings.oversight_volume_min, settings.oversight_volume_factor * mean)
        if tally.count < threshold:
            return None
        who = f"{tally.agency} user {tally.subject}" if tally.subject else tally.agency
        summary = (
            f"{who} made {tally.count} queries on {ctx.city_date(tally.window.start)}, against a usual "
            f"{mean:.1f} a day over the previous {settings.oversight_baseline_days} days"
        )
        details = {"queries": tally.count, "baseline_per_day": round(mean, 2), "threshold": round(threshold, 2)}
        return Finding(ctx.graded(tally.count, threshold), summary, tally.evidence, details)

    def _sole(self, tally: TallyState, ctx: Context) -> bool:
        agency = ctx.history(self.name, tally.agency, "", tally.window.start, tally.window.end)
        return bool(agency) and agency[0][1] == tally.count


class OffHoursBulk(_Baselined):
    """A burst at night, city time (PARS_OVERSIGHT_NIGHT_START_HOUR to _END_HOUR): at least
    PARS_OVERSIGHT_OFF_HOURS_MIN queries in one night and PARS_OVERSIGHT_OFF_HOURS_FACTOR times
    the agency's own mean per night over the baseline. A partner whose shift works nights
    every night sets its own pattern and is not flagged for keeping it."""

    name = "off_hours_bulk"

    def windows(self, query: Query, ctx: Context) -> list[tuple[str, Window]]:
        window = ctx.windows_at(query.quarter).night
        return [] if window is None else [("", window)]

    def judge(self, tally: TallyState, ctx: Context) -> Finding | None:
        settings = ctx.settings
        if tally.count < settings.oversight_off_hours_min:
            return None
        # History is counted from the agency's first query of any hour (the volume rule's tallies).
        mean = self.baseline(tally, ctx, since_rule=VolumeSpike.name)
        if mean is None:
            return None
        threshold = max(settings.oversight_off_hours_min, settings.oversight_off_hours_factor * mean)
        if tally.count < threshold:
            return None
        summary = (
            f"{tally.agency} made {tally.count} queries in the night of {ctx.city_date(tally.window.start)}, "
            f"against a usual {mean:.1f} a night over the previous {settings.oversight_baseline_days} days"
        )
        details = {"queries": tally.count, "baseline_per_night": round(mean, 2), "threshold": round(threshold, 2)}
        return Finding(ctx.graded(tally.count, threshold), summary, tally.evidence, details)


class OutsideScopeProbe(Rule):
    """Repeated requests the agreement does not cover, per PARS_OVERSIGHT_SCOPE_WINDOW_DAYS:
    reads of records outside its scope (PARS_OVERSIGHT_OUT_OF_SCOPE_MIN, medium), or any
    request while no agreement is in force, after expiry, suspension or termination
    (PARS_OVERSIGHT_AFTER_END_MIN, high: the partner knows it has no access)."""

    name = "outside_scope_probe"

    def windows(self, query: Query, ctx: Context) -> list[tuple[str, Window]]:
        if query.reason not in (Refused.OUT_OF_SCOPE, Refused.NO_AGREEMENT):
            return []
        return [("", ctx.windows_at(query.quarter).scope)]

    def observe(self, tally: TallyState, query: Query, ctx: Context) -> None:
        super().observe(tally, query, ctx)
        tally.bump("no_agreement" if query.reason == Refused.NO_AGREEMENT else "out_of_scope")

    def judge(self, tally: TallyState, ctx: Context) -> Finding | None:
        settings = ctx.settings
        ended, scope = tally.data.get("no_agreement", 0), tally.data.get("out_of_scope", 0)
        period = f"the {settings.oversight_scope_window_days} days from {ctx.city_date(tally.window.start)}"
        details = {"no_agreement_in_force": ended, "not_found_or_out_of_scope": scope}
        if ended >= settings.oversight_after_end_min:
            summary = f"{tally.agency} made {ended} requests with no agreement in force in {period}"
            return Finding(Severity.HIGH, summary, tally.evidence, details)
        if scope >= settings.oversight_out_of_scope_min:
            summary = f"{tally.agency} asked {scope} times for records outside its agreement's scope in {period}"
            return Finding(Severity.MEDIUM, summary, tally.evidence, details)
        return None


class RepeatedPersonLookup(Rule):
    """The same person looked up again and again without a new case: per
    PARS_OVERSIGHT_REPEAT_WINDOW_DAYS, a person's lookups beyond one per distinct case
    reference reach PARS_OVERSIGHT_REPEAT_MIN. Requests about the same person under the same
    case within PARS_OVERSIGHT_REPEAT_COLLAPSE_MINUTES are one lookup (a search, then reading
    what it found)."""

    name = "repeated_person_lookup"

    def windows(self, query: Query, ctx: Context) -> list[tuple[str, Window]]:
        if not query.ok or not (query.persons or query.subject):
            return []
        return [("", ctx.windows_at(query.quarter).repeat)]

    def observe(self, tally: TallyState, query: Query, ctx: Context) -> None:
        super().observe(tally, query, ctx)
        people = tally.data.setdefault("people", {})
        for person in query.people():
            people.setdefault(person, []).append([int(query.at.timestamp()), query.case, query.seq])

    def judge(self, tally: TallyState, ctx: Context) -> Finding | None:
        settings = ctx.settings
        collapse = settings.oversight_repeat_collapse_minutes * 60
        flagged: dict[str, tuple[int, list[int], bool]] = {}
        for person, looks in tally.data.get("people", {}).items():
            if len(looks) < settings.oversight_repeat_min:
                continue
            lookups, seqs, last = 0, [], dict[str, int]()
            for at, case, seq in sorted(looks):
                seqs.append(seq)
                if case in last and at - last[case] <= collapse:
                    continue
                last[case], lookups = at, lookups + 1
            cases = {case for _, case, _ in looks if case}
            if lookups - len(cases) >= settings.oversight_repeat_min:
                flagged[person] = (lookups, seqs, not cases)
        if not flagged:
            return None
        most = max(lookups for lookups, _, _ in flagged.values())
        caseless = all(none for _, _, none in flagged.values())
        summary = (
            f"{tally.agency} looked up {len(flagged)} {'person' if len(flagged) == 1 else 'people'} again and again "
            f"(up to {most} times) without a new case reference in the {settings.oversight_repeat_window_days} days "
            f"from {ctx.city_date(tally.window.start)}"
        )
        evidence = sorted({s for _, seqs, _ in flagged.values() for s in seqs})
        people = sorted(p.removeprefix("p:") for p in flagged if p.startswith("p:"))
        details = {"people": len(flagged), "most_lookups": most, "person_ids": people[:100],
                   "threshold": settings.oversight_repeat_min}  # fmt: skip
        return Finding(Severity.HIGH if caseless else Severity.MEDIUM, summary, evidence, details)


def _times(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}es" if noun.endswith("h") else f"{count} {noun}s"


RULES: tuple[Rule, ...] = (
    NoCaseReference(),
    BroadSearch(),
    ProtectedFieldProbe(),
    VolumeSpike(),
    OffHoursBulk(),
    OutsideScopeProbe(),
    RepeatedPersonLookup(),
)
RULE_NAMES = tuple(rule.name for rule in RULES)
