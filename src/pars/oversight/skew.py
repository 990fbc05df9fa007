"""``demographic_skew``: whom a partner looked up, against whom the city arrested.

Profiling shows in the people chosen: a user (or an agency) whose lookups in a week fall on one
race or ethnicity far beyond that group's share of the people arrested in the same week. The
question is statistical, and the rule answers it as one:

- the sample is the distinct people the subject looked up in the window (each once), as their
  newest disclosed record describes them; lookups explained by a registered case (its subjects
  were chosen by the case) are left out;
- the reference is the distinct people arrested in the window (the arrests table), computed
  once per window and batch;
- race and ethnicity are tested separately, each recorded group against the rest, with an
  exact one-sided binomial tail (the sample is drawn without replacement from a larger
  population, for which the binomial is the conservative bound), computed in log space;
- a group is reported only when its share is at least PARS_OVERSIGHT_SKEW_MIN_RATIO times its
  share of arrests and its p-value is at most PARS_OVERSIGHT_SKEW_ALPHA divided by the number
  of groups tested in the window (Bonferroni). ALPHA is the family-wise error per window, small
  (1e-6) because every user's and agency's window of every week is tested, and judged again as
  it grows; a window needs PARS_OVERSIGHT_SKEW_MIN_PEOPLE people and a reference of
  PARS_OVERSIGHT_SKEW_MIN_POPULATION arrested people to be tested at all. Chance alone
  therefore raises nothing (tests/oversight/test_skew.py draws lookups at random).

Population shares are smoothed (half a person per group), which only makes rare groups'
tests more conservative.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from pars.oversight.rulebase import Context, Finding, Rule, Severity, TallyState, who
from pars.oversight.trail import UNKNOWN, Query
from pars.settings import Settings

DIMENSIONS = ("race", "ethnicity")


def binomial_tail(successes: int, trials: int, p: float) -> float:
    """P(X >= successes) for X ~ Binomial(trials, p), summed in log space (exact, no overflow)."""
    if successes <= 0:
        return 1.0
    if successes > trials or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(trials + 1)
    terms: list[float] = []
    for k in range(successes, trials + 1):
        term = base - math.lgamma(k + 1) - math.lgamma(trials - k + 1) + k * log_p + (trials - k) * log_q
        terms.append(term)
        # Past the mode the terms only fall; once negligible against the largest, stop.
        if k > trials * p and term < max(terms) - 40:
            break
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


@dataclass(frozen=True)
class GroupTest:
    dimension: str
    group: str
    looked_up: int
    looked_up_share: float
    population: int
    population_share: float
    ratio: float
    p_value: float | None  # None: not over-represented enough to be tested

    def row(self) -> dict[str, object]:
        return {
            "dimension": self.dimension, "group": self.group, "looked_up": self.looked_up,
            "looked_up_share": round(self.looked_up_share, 4), "population": self.population,
            "population_share": round(self.population_share, 4), "ratio": round(self.ratio, 2),
            "p_value": None if self.p_value is None else float(f"{self.p_value:.3g}"),
        }  # fmt: skip


@dataclass(frozen=True)
class Assessment:
    rows: list[GroupTest]
    tests: int  # groups tested, the Bonferroni divisor
    level: float  # the per-group significance level
    flagged: list[GroupTest]


def assess(looked_up: dict[str, Counter[str]], population: Counter[tuple[str, str]], settings: Settings) -> Assessment:
    """Each dimension's recorded groups in the sample against the population (see the module)."""
    rows: list[GroupTest] = []
    for index, dimension in enumerate(DIMENSIONS):
        sample = Counter({g: n for g, n in looked_up.get(dimension, Counter()).items() if g != UNKNOWN})
        reference: Counter[str] = Counter()
        for key, count in population.items():
            if key[index] != UNKNOWN:
                reference[key[index]] += count
        drawn, arrested = sum(sample.values()), sum(reference.values())
        if drawn < settings.oversight_skew_min_people or arrested < settings.oversight_skew_min_population:
            continue
        groups = sorted(set(sample) | set(reference))
        for group in groups:
            share = (reference[group] + 0.5) / (arrested + 0.5 * len(groups))
            observed = sample[group] / drawn
            ratio = observed / share
            tested = ratio >= settings.oversight_skew_min_ratio
            rows.append(GroupTest(dimension, group, sample[group], observed, reference[group],
                                  reference[group] / arrested, ratio,
                                  binomial_tail(sample[group], drawn, share) if tested else None))  # fmt: skip
    tests = len(rows)
    level = settings.oversight_skew_alpha / tests if tests else 0.0
    flagged = [r for r in rows if r.p_value is not None and r.p_value <= level]
    return Assessment(rows, tests, level, flagged)


class DemographicSkew(Rule):
    """The people a user, and an agency, looked up in PARS_OVERSIGHT_SKEW_WINDOW_DAYS differ in
    race or ethnicity from the people arrested in the same days beyond chance (the module
    says how). A user's window is not raised when that user made all of the agency's lookups
    of the window: the agency's alert, naming the user, is the same pattern."""

    name = "demographic_skew"
    per_user = True

    slot = "skew"

    def counts(self, query: Query) -> bool:
        return query.ok and bool(query.persons) and not query.explained

    def observe(self, tally: TallyState, query: Query, ctx: Context) -> None:
        super().observe(tally, query, ctx)
        people = tally.data.setdefault("people", {})
        for person, groups in zip(query.persons, query.demographics, strict=False):
            if person in people:
                continue
            people[person] = 1
            for dimension, group in zip(DIMENSIONS, groups, strict=True):
                counts = tally.data.setdefault(dimension, {})
                counts[group] = counts.get(group, 0) + 1

    def observe_all(self, tally: TallyState, queries: list[Query], ctx: Context) -> None:
        """``observe`` of each query in turn, with the lookups hoisted out of the loop."""
        tally.add_all(queries, ctx.settings.oversight_max_evidence)
        data = tally.data
        people = data.setdefault("people", {})
        for query in queries:
            for person, groups in zip(query.persons, query.demographics, strict=False):
                if person in people:
                    continue
                people[person] = 1
                for dimension, group in zip(DIMENSIONS, groups, strict=True):
                    counts = data.get(dimension)
                    if counts is None:
                        counts = data[dimension] = {}
                    counts[group] = counts.get(group, 0) + 1

    def judge(self, tally: TallyState, ctx: Context) -> Finding | None:
        settings = ctx.settings
        people = len(tally.data.get("people", {}))
        if people < settings.oversight_skew_min_people:
            return None
        if tally.subject:
            agency = ctx.history(self.name, tally.agency, "", tally.window.start, tally.window.end)
            if agency and agency[0][1] == tally.count:
                return None
        looked_up = {d: Counter(tally.data.get(d, {})) for d in DIMENSIONS}
        result = assess(looked_up, ctx.population(tally.window), settings)
        if not result.flagged:
            return None
        worst = min(result.flagged, key=lambda r: (r.p_value or 0.0, -r.ratio))
        days = settings.oversight_skew_window_days
        summary = (
            f"{who(tally)} looked up {people} different people in the {days} days from "
            f"{ctx.city_date(tally.window.start)}: {worst.looked_up_share:.0%} {worst.dimension} {worst.group}, "
            f"against {worst.population_share:.0%} of the people arrested in those days (p = {worst.p_value:.2g})"
        )
        details = {
            "people": people, "groups": [r.row() for r in result.rows],
            "flagged": [f"{r.dimension}:{r.group}" for r in result.flagged],
            "p_value": worst.p_value, "alpha": settings.oversight_skew_alpha, "tests": result.tests,
            "level": result.level, "min_ratio": settings.oversight_skew_min_ratio,
        }  # fmt: skip
        severity = Severity.HIGH if worst.ratio >= settings.oversight_skew_min_ratio * 2 else Severity.MEDIUM
        return Finding(severity, summary, tally.evidence, details)
