"""The evaluation of the misuse detectors (issue 12, part 4) on one small seeded world: every
kind of planted misuse is found, few alerts are false, and no lawful twin is flagged. The world
is built from the evaluation's own scenarios, independently of the detectors' thresholds
(evaluation/scenarios.py), so this measures the rules rather than restating them."""

from __future__ import annotations

import os
import random
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType

import psycopg
import pytest

EVALUATION = Path(__file__).resolve().parents[2] / "evaluation"
POSTGRES_ADMIN_URL = os.environ.get("PARS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SEED = 1


# evaluation/'s modules import each other by these plain names (like bench/'s): set aside any
# module of the same name another test imported (bench/oversight.py), and put it back after.
_NAMES = ("oversight", "run", "scenarios", "world")


@pytest.fixture(scope="module")
def harness() -> Iterator[ModuleType]:
    saved = {name: sys.modules.pop(name) for name in _NAMES if name in sys.modules}
    sys.path.insert(0, str(EVALUATION))
    try:
        import oversight  # noqa: PLC0415 - evaluation/ is not a package; it is put on the path here

        yield oversight
    finally:
        sys.path.remove(str(EVALUATION))
        for name in _NAMES:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


def _target(backend: str) -> str:
    if backend == "sqlite":
        return "sqlite"
    try:
        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true and is not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    return POSTGRES_ADMIN_URL


def test_the_population_is_philadelphia_like_with_namesakes(harness: ModuleType) -> None:
    world = sys.modules["world"]
    population = world.Population(random.Random(SEED))  # noqa: S311 - a seeded world, not a secret
    population.daily(date(2026, 1, 5), 28, 90)
    arrests = population.arrests
    races = Counter(a.person["race"] for a in arrests)
    assert 0.6 <= races["Black"] / len(arrests) <= 0.72
    assert 0.15 <= races["White"] / len(arrests) <= 0.27
    assert 0.11 <= sum(a.hispanic for a in arrests) / len(arrests) <= 0.19
    names = Counter((a.person["name"]["first"], a.last) for a in arrests)
    assert sum(1 for n in names.values() if n > 1) > 50  # namesakes: a name alone is often ambiguous


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_planted_misuse_is_found_and_lawful_twins_are_not_flagged(harness: ModuleType, backend: str) -> None:
    total, results, _ = harness.evaluate([SEED], weeks=3, small=True, database=_target(backend))
    table = harness.markdown(total, results, [total])
    # The world holds what it claims: every kind of misuse, every twin, busy lawful partners.
    assert set(total.kinds) == set(sys.modules["scenarios"].EXPECTED), table
    assert sorted(t["twin"] for t in total.twins) == sorted(sys.modules["scenarios"].TWINS), table
    assert results[0].queries > 1000
    flagged = {t["twin"]: [a["rule"] for a in t["alerts"]] for t in total.twins if t["alerts"]}
    assert total.pooled.recall >= 0.95, table
    assert total.pooled.precision >= 0.90, table
    assert not flagged, table
