"""Rules that read what a search asked for and what the case references say about it.

A partner that invents a case reference for every lookup defeats any rule that trusts the
reference: one person per reference, one reference per lookup. What it cannot hide is the
churn itself (many references, each used once, beyond the agency's own norm), the searches the
gate refused (a sweep of common names is mostly refused as ambiguous or too broad) and, with
registered cases, that its lookups are explained by none of them.
"""

from __future__ import annotations

from typing import Any

from pars.oversight.rulebase import Baselined, Context, Finding, TallyState, times, who
from pars.oversight.trail import Query
from pars.sharing.vocabulary import Refused

# Refusal reasons of registered cases and minimal disclosure (CONTRACT §7), as the gate writes them.
AMBIGUOUS = "ambiguous"
UNREGISTERED_CASE = "unregistered_case"
_VOLUME = "volume_spike"  # whose tallies count a subject's days of history


class RefusedSweep(Baselined):
    """Searches that asked for more than one person, or for someone not there: refused as too
    broad or as ambiguous (a name that matches several people), and searches that found
    nobody. Per city day, for the agency and for each of its users: at least
    PARS_OVERSIGHT_REFUSED_SWEEP_MIN and PARS_OVERSIGHT_REFUSED_SWEEP_FACTOR times the
    subject's own daily mean. Without a history (a new partner, a new user) only the refused
    searches are counted, against the minimum: an empty search is ordinary case work."""

    name = "refused_sweep"
    per_user = True

    slot = "day"

    def counts(self, query: Query) -> bool:
        if not query.is_search:
            return False
        return not query.records if query.ok else query.reason in (Refused.TOO_BROAD, AMBIGUOUS)

    def observe(self, tally: TallyState, query: Query, ctx: Context) -> None:
        super().observe(tally, query, ctx)
        tally.bump("empty" if query.ok else "ambiguous" if query.reason == AMBIGUOUS else "too_broad")
        if query.name_only:
            tally.bump("name_only")
        if query.matched:
            tally.bump("persons_matched", query.matched)
        subjects = tally.data.setdefault("subjects", {})
        if query.subject:
            subjects[query.subject] = subjects.get(query.subject, 0) + 1

    def judge(self, tally: TallyState, ctx: Context) -> Finding | None:
        settings = ctx.settings
        least = settings.oversight_refused_sweep_min
        refused = tally.data.get("ambiguous", 0) + tally.data.get("too_broad", 0)
        if tally.count < least or (tally.subject and self.sole(tally, ctx)):
            return None
        mean = self.baseline(tally, ctx, since_rule=_VOLUME)
        if mean is None:
            counted, threshold = refused, float(least)
        else:
            counted, threshold = tally.count, max(least, settings.oversight_refused_sweep_factor * mean)
        if counted < threshold:
            return None
        data = tally.data
        details: dict[str, Any] = {
            "refused_too_broad": data.get("too_broad", 0), "refused_ambiguous": data.get("ambiguous", 0),
            "found_nobody": data.get("empty", 0), "name_only": data.get("name_only", 0),
            "persons_matched": data.get("persons_matched", 0), "different_searches": len(data.get("subjects", {})),
            "baseline_per_day": None if mean is None else round(mean, 2), "threshold": round(threshold, 2),
        }  # fmt: skip
        usual = "" if mean is None else f", against a usual {mean:.1f} a day"
        summary = (
            f"{who(tally)} made {times(tally.count, 'search')} on {ctx.city_date(tally.window.start)} that named no "
            f"one person ({refused} refused as too broad or ambiguous, {data.get('empty', 0)} found nobody){usual}"
        )
        return Finding(ctx.graded(counted, threshold), summary, tally.evidence, details)


class CaseReferenceChurn(Baselined):
    """Case references invented per lookup. Per city day, the agency's distinct references
    under which it looked up people its registered cases do not explain, or asked for someone
    and was refused (for an unregistered case, a search too broad or ambiguous): raised when
    there are at least PARS_OVERSIGHT_CHURN_MIN, at least
    PARS_OVERSIGHT_CHURN_FACTOR times the agency's own daily mean of the same, and at least
    PARS_OVERSIGHT_CHURN_ONCE_SHARE of them were used for a single lookup (a search, then
    reading what it found, is one). A warrant unit that uses each reference once, at its usual
    rate, keeps its norm; a partner new to PARS is held to PARS_OVERSIGHT_HIGH_FACTOR times the
    minimum until it has one.

    The tally's count is the number of distinct references, so that the baseline is one."""

    name = "case_reference_churn"

    slot = "day"

    def counts(self, query: Query) -> bool:
        if not query.case or query.explained:
            return False
        return query.ok or query.reason in (UNREGISTERED_CASE, AMBIGUOUS, Refused.TOO_BROAD)

    def observe(self, tally: TallyState, query: Query, ctx: Context) -> None:
        data = tally.data
        if len(tally.evidence) < ctx.settings.oversight_max_evidence:
            tally.evidence.append(query.seq)
        if query.user:
            users = data.setdefault("users", {})
            users[query.user] = users.get(query.user, 0) + 1
        tally.bump("queries")
        if query.reason == UNREGISTERED_CASE:
            tally.bump("unregistered_refused")
        elif not query.ok:
            tally.bump("refused_searches")
        elif query.case_facts is not None:
            tally.bump("unexplained")
        refs: dict[str, list[int]] = data.setdefault("references", {})
        at = int(query.at.timestamp())
        seen = refs.get(query.case)
        if seen is None:
            refs[query.case] = [1, at]
            tally.count += 1
        else:
            if at - seen[1] > ctx.settings.oversight_repeat_collapse_minutes * 60:
                seen[0] += 1
            seen[1] = at
        people = data.setdefault("people", {})
        for person in query.persons:
            cases = people.setdefault(person, [])
            if query.case not in cases:
                cases.append(query.case)

    def observe_all(self, tally: TallyState, queries: list[Query], ctx: Context) -> None:
        """``observe`` of each query in turn, with the lookups hoisted out of the loop."""
        data, evidence = tally.data, tally.evidence
        cap, collapse = ctx.settings.oversight_max_evidence, ctx.settings.oversight_repeat_collapse_minutes * 60
        for query in queries:
            if len(evidence) < cap:
                evidence.append(query.seq)
            user, case = query.user, query.case
            if user:
                users = data.setdefault("users", {})
                users[user] = users.get(user, 0) + 1
            data["queries"] = data.get("queries", 0) + 1
            counted = (
                "unregistered_refused" if query.reason == UNREGISTERED_CASE
                else "refused_searches" if not query.ok
                else "unexplained" if query.case_facts is not None
                else None
            )  # fmt: skip
            if counted is not None:
                data[counted] = data.get(counted, 0) + 1
            refs: dict[str, list[int]] = data.setdefault("references", {})
            at = int(query.at.timestamp())
            seen = refs.get(case)
            if seen is None:
                refs[case] = [1, at]
                tally.count += 1
            else:
                if at - seen[1] > collapse:
                    seen[0] += 1
                seen[1] = at
            people = data.setdefault("people", {})
            for person in query.persons:
                cases = people.setdefault(person, [])
                if case not in cases:
                    cases.append(case)

    def judge(self, tally: TallyState, ctx: Context) -> Finding | None:
        settings = ctx.settings
        references = tally.count
        if references < settings.oversight_churn_min:
            return None
        mean = self.baseline(tally, ctx, since_rule=_VOLUME)
        if mean is None:
            threshold = settings.oversight_churn_min * settings.oversight_high_factor
        else:
            threshold = max(settings.oversight_churn_min, settings.oversight_churn_factor * mean)
        refs: dict[str, list[int]] = tally.data.get("references", {})
        once = sum(1 for units, _ in refs.values() if units == 1)
        if references < threshold or once < settings.oversight_churn_once_share * references:
            return None
        many = sum(1 for cases in tally.data.get("people", {}).values() if len(cases) > 1)
        details = {
            "references": references, "used_once": once, "queries": tally.data.get("queries", 0),
            "unexplained_lookups": tally.data.get("unexplained", 0),
            "refused_unregistered": tally.data.get("unregistered_refused", 0),
            "refused_searches": tally.data.get("refused_searches", 0),
            "people_under_several_references": many,
            "baseline_per_day": None if mean is None else round(mean, 2), "threshold": round(threshold, 2),
        }  # fmt: skip
        usual = "no history yet" if mean is None else f"a usual {mean:.1f} a day"
        summary = (
            f"{tally.agency} used {references} different case references on {ctx.city_date(tally.window.start)}, "
            f"{once} of them for a single lookup, none explained by a registered case ({usual})"
        )
        return Finding(ctx.graded(references, threshold), summary, tally.evidence, details)
