"""The misuse detectors: one small rule each, thresholds from settings (docs/oversight.md).

A rule says, for each query on the trail, which windows it counts in (``windows``), what it
adds there (``observe``), and, looking at a window's tally, whether it is a pattern worth an
alert (``judge``). Tallies only grow, so the same window judged again after more entries
gives the same alert with more evidence, never a second alert.

Rules look at partner agencies only, except ``protected_field_probe``: searching by place of
birth is a probe whoever does it. Rules count what a request *asked for* as well as what it
returned (a search refused as too broad or ambiguous asked for someone), and leave out what
makes lawful work lawful: a lookup of a subject of the registered case it names
(*explained*), a lookup of someone arrested in the last hours.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pars.oversight.rulebase import (
    SEVERITY_ORDER,
    Baselined,
    Context,
    Finding,
    FirstSeen,
    History,
    QuarterWindows,
    Rule,
    Severity,
    TallyState,
    times,
    who,
)
from pars.oversight.rules_cases import AMBIGUOUS, CaseReferenceChurn, RefusedSweep
from pars.oversight.skew import DemographicSkew, binomial_tail
from pars.oversight.trail import Query
from pars.sharing.vocabulary import Refused

__all__ = [
    "RULES", "RULE_NAMES", "SEVERITY_ORDER", "Baselined", "Context", "Finding", "FirstSeen", "History",
    "QuarterWindows", "Rule", "Severity", "TallyState",
]  # fmt: skip

# Record fields whose use as a search key is profiling, beyond PARS_PROTECTED_FIELDS itself.
SENSITIVE_PARAMETERS = frozenset(
    {
        "place_of_birth", "birthplace", "country_of_birth", "citizenship", "nationality",
        "immigration_status", "ssn", "race", "ethnicity", "sex", "gender", "language", "victims", "witnesses",
    }
)  # fmt: skip
PROTECTED_PROBE = "protected_field_probe"
# One of broad_search's groups of a window (a case's, or the pooled): the group itself, its
# people, the set of them, its seqs.
_Group = tuple[dict[str, Any], list[str], set[str], list[int]]


class NoCaseReference(Rule):
    """Queries answered without a case reference, or refused for lacking one the agreement
    requires, at least PARS_OVERSIGHT_NO_CASE_MIN in a city day. An agreement may allow them;
    a run of them is still queries nobody can tie to a case."""

    name = "no_case_reference"

    slot = "day"

    def counts(self, query: Query) -> bool:
        return (query.ok and not query.case) or query.reason == Refused.CASE_REFERENCE

    def observe(self, tally: TallyState, query: Query, ctx: Context) -> None:
        super().observe(tally, query, ctx)
        tally.bump("answered" if query.ok else "refused")

    def observe_all(self, tally: TallyState, queries: list[Query], ctx: Context) -> None:
        tally.add_all(queries, ctx.settings.oversight_max_evidence)
        answered = sum(1 for query in queries if query.ok)
        counts = {"answered": answered, "refused": len(queries) - answered}
        for name in ("answered", "refused") if queries[0].ok else ("refused", "answered"):  # as first met
            if counts[name]:
                tally.bump(name, counts[name])

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


class BroadSearch(Baselined):
    """Many different people looked up, or asked for, in one block of
    PARS_OVERSIGHT_BROAD_SEARCH_HOURS of the city day. Two ways:

    - under one case reference, or under none: at least PARS_OVERSIGHT_BROAD_SEARCH_PEOPLE
      (high when under none);
    - across references that are no registered case of the agency (a sweep that invents a
      reference per search): at least PARS_OVERSIGHT_BROAD_SEARCH_POOLED_PEOPLE and
      PARS_OVERSIGHT_BROAD_SEARCH_POOLED_FACTOR times the agency's usual queries per block
      (PARS_OVERSIGHT_HIGH_FACTOR times the minimum while it has no history).

    A search refused as too broad or ambiguous asked for someone and counts. Lawful surges do
    not: lookups explained by their registered case (a task force's co-defendants), and
    lookups under a case reference of people arrested in the last
    PARS_OVERSIGHT_RECENT_ARREST_HOURS (``Query.follow_up``)."""

    name = "broad_search"

    slot = "block"

    def counts(self, query: Query) -> bool:
        return not query.discounted if query.ok else query.reason in (Refused.TOO_BROAD, AMBIGUOUS)

    def observe(self, tally: TallyState, query: Query, ctx: Context) -> None:
        super().observe(tally, query, ctx)
        cap = ctx.settings.oversight_max_evidence
        groups = [
            (f"c:{query.case}", tally.data.setdefault("cases", {}).setdefault(query.case, {"people": [], "seqs": []}))
        ]
        if not query.registered:
            groups.append(("pooled", tally.data.setdefault("pooled", {"people": [], "seqs": []})))
        for name, group in groups:
            tally.extend_distinct(name, group["people"], query.people())
            if len(group["seqs"]) < cap:
                group["seqs"].append(query.seq)
            if query.user:
                group.setdefault("users", {})[query.user] = 1
        if query.case and not query.registered:
            tally.data.setdefault("references", {})[query.case] = 1

    def observe_all(self, tally: TallyState, queries: list[Query], ctx: Context) -> None:
        """``observe`` of each query in turn, with the lookups hoisted out of the loop."""
        cap = ctx.settings.oversight_max_evidence
        tally.add_all(queries, cap)
        data = tally.data
        cases = data.setdefault("cases", {})
        slots: dict[str, _Group] = {}  # a case's group, looked up once per call, not per query
        pooled: _Group | None = None
        for query in queries:
            case, user, seq = query.case, query.user, query.seq
            found = slots.get(case)
            if found is None:
                group = cases.get(case)
                if group is None:
                    group = cases[case] = {"people": [], "seqs": []}
                found = slots[case] = (group, group["people"], tally.distinct(f"c:{case}", group["people"]),
                                       group["seqs"])  # fmt: skip
            registered = query.registered
            if registered:
                targets: tuple[_Group, ...] = (found,)
            else:
                if pooled is None:
                    group = data.get("pooled")
                    if group is None:
                        group = data["pooled"] = {"people": [], "seqs": []}
                    pooled = (group, group["people"], tally.distinct("pooled", group["people"]), group["seqs"])
                targets = (found, pooled)
            people = query.people()
            for group, listed, known, seqs in targets:  # tally.extend_distinct, inlined
                for person in people:
                    if person not in known:
                        known.add(person)
                        listed.append(person)
                if len(seqs) < cap:
                    seqs.append(seq)
                if user:
                    users = group.get("users")
                    if users is None:
                        users = group["users"] = {}
                    users[user] = 1
            if case and not registered:
                data.setdefault("references", {})[case] = 1

    def judge(self, tally: TallyState, ctx: Context) -> Finding | None:
        settings = ctx.settings
        threshold = settings.oversight_broad_search_people
        cases: dict[str, dict[str, list[Any]]] = tally.data.get("cases", {})
        broad = {case: len(v["people"]) for case, v in cases.items() if len(v["people"]) >= threshold}
        start, end = tally.window.start.astimezone(ctx.zone), tally.window.end.astimezone(ctx.zone)
        window = f"between {start:%H:%M} and {end:%H:%M} on {ctx.city_date(tally.window.start)}"
        if broad:
            people = max(broad.values())
            severity = Severity.HIGH if "" in broad else ctx.graded(people, threshold)
            how = "without any case reference" if "" in broad else "under a single case reference"
            summary = f"{tally.agency} looked up {people} different people {how} {window}"
            evidence = sorted({s for case in broad for s in cases[case]["seqs"]})
            details: dict[str, Any] = {"people": people, "threshold": threshold, "cases_over_threshold": len(broad),
                       "without_case_reference": "" in broad}  # fmt: skip
            return Finding(
                severity, summary, evidence, details, _one({u for c in broad for u in cases[c].get("users", {})})
            )
        pooled = tally.data.get("pooled")
        if pooled is None or len(pooled["people"]) < settings.oversight_broad_search_pooled_people:
            return None
        people = len(pooled["people"])
        per_day = self.baseline(tally, ctx, since_rule=VolumeSpike.name, of_rule=VolumeSpike.name)
        least = settings.oversight_broad_search_pooled_people
        if per_day is None:  # no norm yet: a stricter bar, as for case_reference_churn
            usual, pooled_threshold = 0.0, least * settings.oversight_high_factor
        else:
            usual = per_day * settings.oversight_broad_search_hours / 24
            pooled_threshold = max(least, settings.oversight_broad_search_pooled_factor * usual)
        if people < pooled_threshold:
            return None
        references = len(tally.data.get("references", {}))
        summary = (
            f"{tally.agency} looked up {people} different people under {times(references, 'case reference')} "
            f"that are no registered case {window}, against a usual {usual:.1f} queries in such a block"
        )
        details = {"people": people, "references": references, "usual_per_block": round(usual, 2),
                   "threshold": round(pooled_threshold, 2), "without_case_reference": False}  # fmt: skip
        user = _one(set(pooled.get("users", {})))
        return Finding(ctx.graded(people, pooled_threshold), summary, sorted(pooled["seqs"]), details, user)


class ProtectedFieldProbe(Rule):
    """Attempts to search by a record field that is no search parameter (place of birth,
    citizenship, race, …), refused and audited as probes: PARS_OVERSIGHT_PROBE_MIN in a city
    day (default 1: every such attempt is worth a look). Searches by parameters whose field the
    agreement does not grant count too, from PARS_OVERSIGHT_UNGRANTED_PROBE_MIN a day."""

    name = "protected_field_probe"
    partners_only = False

    slot = "day"

    def counts(self, query: Query) -> bool:
        return not query.ok and query.reason in (PROTECTED_PROBE, Refused.PARAMETER)

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
            summary = f"{tally.agency} made {times(probes, 'attempt')} to search by record fields ({names}) on {day}"
            return Finding(severity, summary, tally.evidence, details)
        if ungranted >= ctx.settings.oversight_ungranted_probe_min:
            searches = times(ungranted, "search")
            summary = f"{tally.agency} made {searches} by fields its agreement does not grant ({names}) on {day}"
            return Finding(Severity.LOW, summary, tally.evidence, details)
        return None


class VolumeSpike(Baselined):
    """An agency's (or one user's) queries in a city day at least PARS_OVERSIGHT_VOLUME_FACTOR
    times its own daily mean over the baseline, and at least PARS_OVERSIGHT_VOLUME_MIN.
    Lookups the partner did not choose are left out: the subjects of a registered case (a task
    force's indictment), follow-ups of the city's arrests of the last hours."""

    name = "volume_spike"
    per_user = True

    slot = "day"

    def counts(self, query: Query) -> bool:
        return not query.discounted  # chosen by a registered case, or by the city's own arrests

    def judge(self, tally: TallyState, ctx: Context) -> Finding | None:
        settings = ctx.settings
        if tally.count < settings.oversight_volume_min:
            return None
        # One user who made all of the agency's queries that day is the agency's own alert.
        if tally.subject and self.sole(tally, ctx):
            return None
        mean = self.baseline(tally, ctx, since_rule=self.name)
        if mean is None:
            return None
        threshold = max(settings.oversight_volume_min, settings.oversight_volume_factor * mean)
        if tally.count < threshold:
            return None
        summary = (
            f"{who(tally)} made {tally.count} queries on {ctx.city_date(tally.window.start)}, against a usual "
            f"{mean:.1f} a day over the previous {settings.oversight_baseline_days} days"
        )
        details = {"queries": tally.count, "baseline_per_day": round(mean, 2), "threshold": round(threshold, 2)}
        return Finding(ctx.graded(tally.count, threshold), summary, tally.evidence, details)


class OffHoursBulk(Baselined):
    """A burst at night, city time (PARS_OVERSIGHT_NIGHT_START_HOUR to _END_HOUR): at least
    PARS_OVERSIGHT_OFF_HOURS_MIN queries in one night and PARS_OVERSIGHT_OFF_HOURS_FACTOR times
    the agency's own mean per night over the baseline. A partner whose shift works nights
    every night sets its own pattern and is not flagged for keeping it."""

    name = "off_hours_bulk"

    slot = "night"  # None in the daytime: counted only at night

    def counts(self, query: Query) -> bool:
        return not query.discounted

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

    slot = "scope"

    def counts(self, query: Query) -> bool:
        return query.reason in (Refused.OUT_OF_SCOPE, Refused.NO_AGREEMENT)

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
    """The same person looked up again and again without a new case, per
    PARS_OVERSIGHT_REPEAT_WINDOW_DAYS. A person's lookups are counted once per case reference
    and city day (a search, then reading what it found; a daily custody check), and without a
    reference once per PARS_OVERSIGHT_REPEAT_COLLAPSE_MINUTES. Raised when the lookups beyond
    one per distinct reference reach PARS_OVERSIGHT_REPEAT_MIN, or when one person was looked
    up under PARS_OVERSIGHT_REPEAT_REFERENCES_MIN different references (fresh references do
    not make the same person a new case) more often than chance would have it, given the
    agency's lookups of the window and the people on file (PARS_OVERSIGHT_REPEAT_CHANCE).
    Lookups explained by their registered case (the person is one of its subjects) do not
    count."""

    name = "repeated_person_lookup"

    slot = "repeat"

    def counts(self, query: Query) -> bool:
        return query.ok and not query.explained and bool(query.persons or query.subject)

    def observe(self, tally: TallyState, query: Query, ctx: Context) -> None:
        super().observe(tally, query, ctx)
        people = tally.data.setdefault("people", {})
        day = ctx.windows_at(query.quarter).day.label
        for person in query.people():
            people.setdefault(person, []).append([int(query.at.timestamp()), query.case, query.seq, day, query.user])

    def observe_all(self, tally: TallyState, queries: list[Query], ctx: Context) -> None:
        """``observe`` of each query in turn, with the lookups hoisted out of the loop."""
        tally.add_all(queries, ctx.settings.oversight_max_evidence)
        people = tally.data.setdefault("people", {})
        windows_at = ctx.windows_at
        for query in queries:
            at, case, seq, day, user = (int(query.at.timestamp()), query.case, query.seq,
                                        windows_at(query.quarter).day.label, query.user)  # fmt: skip
            for person in query.people():
                looks = people.get(person)
                if looks is None:
                    looks = people[person] = []
                looks.append([at, case, seq, day, user])

    def judge(self, tally: TallyState, ctx: Context) -> Finding | None:
        settings = ctx.settings
        collapse = settings.oversight_repeat_collapse_minutes * 60
        least = min(settings.oversight_repeat_min, settings.oversight_repeat_references_min)
        flagged: dict[str, tuple[int, int, list[int], bool]] = {}
        users: set[str] = set()
        everyone = tally.data.get("people", {})
        chance = _chance(sum(len(looks) for looks in everyone.values()), ctx.on_file())
        for person, looks in everyone.items():
            if len(looks) < least:
                continue
            before = set(users)
            lookups, seqs, last, days = 0, [], dict[str, int](), set[tuple[str, str]]()
            for at, case, seq, *more in sorted(looks):
                seqs.append(seq)
                if more:
                    users.add(more[-1] if len(more) > 1 else "?")
                if case:
                    key = (case, more[0] if more else str(at // 86400))
                    if key in days:
                        continue
                    days.add(key)
                elif case in last and at - last[case] <= collapse:
                    continue
                last[case], lookups = at, lookups + 1
            cases = {case for _, case, *_ in looks if case}
            many = (
                len(cases) >= settings.oversight_repeat_references_min
                and chance(len(cases)) <= settings.oversight_repeat_chance
            )
            if many or lookups - len(cases) >= settings.oversight_repeat_min:
                flagged[person] = (lookups, len(cases), seqs, not cases)
            else:
                users = before
        if not flagged:
            return None
        most = max(lookups for lookups, _, _, _ in flagged.values())
        references = max(refs for _, refs, _, _ in flagged.values())
        caseless = all(none for *_, none in flagged.values())
        how = (
            "without a new case reference"
            if references < settings.oversight_repeat_references_min
            else (f"under up to {references} different case references")
        )
        summary = (
            f"{tally.agency} looked up {len(flagged)} {'person' if len(flagged) == 1 else 'people'} again and again "
            f"(up to {most} times) {how} in the {settings.oversight_repeat_window_days} days "
            f"from {ctx.city_date(tally.window.start)}"
        )
        evidence = sorted({s for _, _, seqs, _ in flagged.values() for s in seqs})
        people = sorted(p.removeprefix("p:") for p in flagged if p.startswith("p:"))
        details = {"people": len(flagged), "most_lookups": most, "most_references": references,
                   "person_ids": people[:100], "threshold": settings.oversight_repeat_min,
                   "references_threshold": settings.oversight_repeat_references_min}  # fmt: skip
        severe = caseless or references >= settings.oversight_repeat_references_min
        return Finding(Severity.HIGH if severe else Severity.MEDIUM, summary, evidence, details, _one(users))


def _chance(lookups: int, on_file: int) -> Callable[[int], float]:
    """How many of the ``on_file`` people would, by chance alone, be among ``lookups`` made at
    random at least k times (the expected count, binomial): a busy agency meets the same
    person again now and then; a stalker's one person, looked up day after day, is beyond it."""
    if on_file <= 0:
        return lambda k: 0.0
    return lambda k: on_file * binomial_tail(k, lookups, 1 / on_file)


def _one(users: set[str]) -> str | None:
    """The user, when the evidence is one user's (a user id; "" or "?" is no known user)."""
    return next(iter(users)) if len(users) == 1 and next(iter(users)) not in ("", "?") else None


RULES: tuple[Rule, ...] = (
    NoCaseReference(),
    BroadSearch(),
    ProtectedFieldProbe(),
    VolumeSpike(),
    OffHoursBulk(),
    OutsideScopeProbe(),
    RepeatedPersonLookup(),
    DemographicSkew(),
    RefusedSweep(),
    CaseReferenceChurn(),
)
RULE_NAMES = tuple(rule.name for rule in RULES)
