"""demographic_skew: a proper test, so that profiling shows and chance alone raises nothing."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pydantic import ValidationError

from pars.actors import Actor
from pars.oversight.groups import NOT_RECORDED, group_of
from pars.oversight.models import Alert
from pars.oversight.scan import ScanResult
from pars.oversight.skew import assess, binomial_tail
from pars.settings import Settings
from tests.oversight.conftest import Person, at
from tests.oversight.test_rules_cases import Look, Writer, arrested, write  # noqa: F401  (fixtures)

SETTINGS = Settings()


def test_binomial_tail_matches_the_sum() -> None:
    for n, p in ((10, 0.3), (40, 0.05), (25, 0.9)):
        for x in range(n + 1):
            exact = sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(x, n + 1))
            assert math.isclose(binomial_tail(x, n, p), exact, rel_tol=1e-9, abs_tol=1e-300)
    assert binomial_tail(0, 5, 0.2) == 1.0 and binomial_tail(6, 5, 0.2) == 0.0
    # Far in the tail, where the plain sum underflows, the log-space sum still answers.
    assert 0 < binomial_tail(2000, 2000, 0.15) < 1e-300 or binomial_tail(2000, 2000, 0.15) == 0.0
    assert math.isclose(binomial_tail(200, 200, 0.15), 0.15**200, rel_tol=1e-9)


def test_free_text_groups_are_normalised() -> None:
    assert group_of("B", "  Hispanic ") == group_of("black", "H") == ("Black or African American", "Hispanic or Latino")
    for unknown in (None, "", " Unknown ", "U", "martian"):
        assert group_of(unknown, unknown) == (NOT_RECORDED, NOT_RECORDED)


POPULATION = Counter(
    {("black", "non-hispanic"): 520, ("white", "non-hispanic"): 170, ("white", "hispanic"): 160,
     ("black", "hispanic"): 20, ("asian", "non-hispanic"): 40, (NOT_RECORDED, NOT_RECORDED): 90}
)  # fmt: skip


def looked_up(people: list[tuple[str, str]]) -> dict[str, Counter[str]]:
    return {"race": Counter(r for r, _ in people), "ethnicity": Counter(e for _, e in people)}


@hsettings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1), n=st.integers(5, 400), weights=st.lists(st.integers(1, 500), min_size=2, max_size=6)
)
def test_chance_alone_raises_nothing(seed: int, n: int, weights: list[int]) -> None:
    """Lookups drawn at random from the arrestee population, of any composition and size, are
    never found skewed."""
    groups = [("black", "non-hispanic"), ("white", "hispanic"), ("white", "non-hispanic"), ("asian", "non-hispanic"),
              ("black", "hispanic"), (NOT_RECORDED, NOT_RECORDED)][: len(weights)]  # fmt: skip
    population = Counter(dict(zip(groups, weights, strict=False)))
    people = [g for g, w in population.items() for _ in range(w)]
    sample = random.Random(seed).sample(people, min(n, len(people)))  # noqa: S311  (a draw, not a secret)
    assert assess(looked_up(sample), population, SETTINGS).flagged == []


def test_a_profiling_sample_is_flagged_with_both_compositions() -> None:
    # 30 people, 24 of them Hispanic where 19% of those arrested are.
    sample = [("white", "hispanic")] * 20 + [("black", "hispanic")] * 4 + [("black", "non-hispanic")] * 6
    result = assess(looked_up(sample), POPULATION, SETTINGS)
    assert [(r.dimension, r.group) for r in result.flagged] == [("ethnicity", "hispanic")]
    (row,) = result.flagged
    assert (row.looked_up, row.population) == (24, 180) and row.p_value is not None and row.p_value < 1e-9
    assert result.tests == 5 and math.isclose(result.level, SETTINGS.oversight_skew_alpha / 5)  # 3 races, 2 ethnicities
    # Too few people to say anything: not tested at all.
    assert assess(looked_up(sample[:15]), POPULATION, SETTINGS).rows == []


def test_demographic_skew_on_the_trail(
    write: Writer, partner: Callable[..., Actor], arrested: Callable[..., list[Person]],  # noqa: F811
    run_scan: Callable[..., ScanResult], alerts: Callable[..., list[Alert]], settings: Settings,
) -> None:  # fmt: skip
    """One ICE user looks up Hispanic arrestees only; a colleague and FBI look up people as the
    city arrests them. Only the profiling user's week is raised: the agency's, diluted by the
    colleague, is not beyond chance, which is why users are judged on their own."""
    tuned = settings.model_copy(update={"oversight_no_case_min": 1000, "oversight_broad_search_pooled_people": 1000})
    week = at(-1, 9)  # Tuesday of the week the lookups fall in
    hispanic = arrested(20, week, race="White", ethnicity=" hispanic") + arrested(
        6, week, race="Black", ethnicity="Hispanic"
    )
    others = arrested(70, week, race="Black", ethnicity="Non-Hispanic") + arrested(24, week, race="White",
                                                                                  ethnicity="Non-Hispanic")  # fmt: skip
    profiler, colleague, fbi = partner("ICE"), partner("ICE"), partner("FBI")
    profiled = write(profiler, at(0, 10), *[Look([p], case=f"I-{i}") for i, p in enumerate(hispanic[:24])])
    mixed = hispanic[24:] + others  # 2 Hispanic of 96
    rng = random.Random(7)  # noqa: S311
    write(colleague, at(1, 10), *[Look([p], case=f"C-{i}") for i, p in enumerate(rng.sample(mixed, 25))])
    everyone = hispanic + others
    write(fbi, at(1, 10), *[Look([p], case=f"F-{i}") for i, p in enumerate(rng.sample(everyone, 40))])
    run_scan(tuned)
    raised = {(a.agency, a.user_id) for a in alerts("demographic_skew")}
    assert raised == {("ICE", profiler.user_id)}
    mine = next(a for a in alerts("demographic_skew") if a.user_id == profiler.user_id)
    assert mine.evidence == profiled and mine.severity == "high"
    assert mine.details["people"] == 24 and mine.details["flagged"] == ["ethnicity:Hispanic or Latino"]
    hispanic_row = next(g for g in mine.details["groups"] if g["group"] == "Hispanic or Latino")
    assert hispanic_row["looked_up"] == 24 and hispanic_row["looked_up_share"] == 1.0
    assert hispanic_row["population"] == 26 and hispanic_row["population_share"] == 0.2167
    assert "100% ethnicity Hispanic or Latino" in mine.summary and f"user {profiler.user_id}" in mine.summary


@pytest.mark.parametrize(
    "bad",
    [{"oversight_skew_alpha": 0.5}, {"oversight_skew_min_ratio": 1.0}, {"oversight_skew_min_people": 2},
     {"oversight_churn_once_share": 1.5}, {"oversight_repeat_chance": 0}, {"oversight_recent_arrest_hours": -1}],
)  # fmt: skip
def test_thresholds_are_checked_at_start_up(bad: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate(bad)
