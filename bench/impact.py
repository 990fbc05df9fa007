"""The impact preview of a proposed agreement version over a year of a city's arrests.

    .venv/bin/python bench/impact.py [--url sqlite:///...] [--arrests 60000] [--runs 7]

Seeds a database (bench/seed.py: FBI's agreement in force since 300 days ago, a year of arrests
across every status, 2% sealed), proposes an amendment (firearms and drugs only, other fields), then times
`pars.oversight.impact.preview` for it over the default period (the last 365 days) — the
counts, fields, disparate-impact table, the difference from the version in force and what
the agency received under it — as a page or the API calls it, in its own unit of work. Beside
it, the ceiling: a plain `COUNT(*)` of the same period's arrests, what any preview must at
least read. Figures are medians of `runs` runs; the target is a second for 60,000 arrests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from pars.actors import CityActor
from pars.audit.chain import checkpoint_policy
from pars.clock import SystemClock
from pars.db import make_session_factory
from pars.oversight import impact
from pars.oversight.reports.period import Period
from pars.permissions import Role
from pars.records.models import Arrest
from pars.sharing import agreements
from pars.sharing.agreements import Policy
from pars.sharing.models import Agreement
from pars.sharing.schemas import TermsIn
from pars.work import unit_of_work

sys.path.insert(0, str(Path(__file__).resolve().parent))  # as bench/suite.py: modules side by side
import seed
from figures import Figure

TARGET_MS = 1000.0  # for 60,000 arrests
AMENDMENT = {
    "title": "FBI: firearms and drugs only",
    "purposes": ["criminal_investigation"],
    "channels": ["query"],
    "fields": ["person.name", "person.dob", "person.race", "person.phone", "charges", "narrative", "charging"],
    "scope": {"sections": ["6105", "6106", "6108", "780-113"], "statuses": None},
}


def _median_ms(runs: int, work: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), result


def figures(url: str, *, quick: bool = False, arrests: int | None = None, runs: int | None = None) -> list[Figure]:
    count = arrests or (6000 if quick else 60_000)
    runs = runs or (3 if quick else 7)
    with tempfile.TemporaryDirectory() as tmp:
        now = datetime.now(UTC)
        # FBI's agreement approved 300 days ago: what it received is counted over most of the year.
        approved = now - timedelta(days=300)
        world = seed.build(url, Path(tmp), now=approved)
        seed.add_arrests(world.engine, count)
        factory = make_session_factory(world.engine)
        settings = world.settings
        policy = checkpoint_policy(settings)
        rules = Policy(frozenset(settings.protected_fields), frozenset(settings.prohibited_purposes),
                       settings.agreement_quorum)  # fmt: skip
        governor = world.actors["city.gov"]
        with unit_of_work(factory, SystemClock(), policy=policy, actor=governor) as session:
            agreement_id = session.scalars(select(Agreement.id)).one()
            current = seed.terms("FBI", now=approved)
            terms = TermsIn.model_validate(
                {**AMENDMENT, "effective_from": current.effective_from, "expires_at": current.expires_at}
            )
            agreements.amend(session, governor, agreement_id, terms, rules)
        viewer = CityActor(None, "CITY", frozenset({Role.OVERSIGHT}))
        zone = settings.zone

        def preview() -> dict[str, object]:
            with unit_of_work(factory, SystemClock(), policy=policy, actor=viewer) as session:
                return impact.preview(session, viewer, agreement_id, 2, start=None, end=None, zone=zone)

        def ceiling() -> int:
            today = now.astimezone(zone).date()
            period = Period.parse(*impact.default_period(today), zone=zone)
            with factory() as session:
                return int(session.scalar(select(func.count()).select_from(Arrest).where(
                    Arrest.arrested_at >= period.start, Arrest.arrested_at < period.end)) or 0)  # fmt: skip

        preview()  # warm: caches, the first compile of each statement
        ceiling()
        spent, result = _median_ms(runs, preview)
        floor_ms, total = _median_ms(runs, ceiling)
        database = world.engine.dialect.name
        world.engine.dispose()
    shown = result if isinstance(result, dict) else {}
    received = shown.get("received")
    extra = {"arrests_seeded": count, "arrests_in_period": total, "admitted": shown.get("arrests"),
             "persons": shown.get("persons"), "difference": shown.get("difference"),
             "received_period": received.get("period") if isinstance(received, dict) else None,
             "ceiling_ms": round(floor_ms, 2)}  # fmt: skip
    note = f"{count:,} arrests over a year; median of {runs}; ceiling = COUNT(*) of the period"
    return [
        Figure("impact", f"impact preview of an amendment, {count:,} arrests", spent, "ms", database,
               target=TARGET_MS, better="lower", runs=runs, note=note, extra=extra, ceiling=floor_ms,
               ceiling_name="COUNT(*) of the period's arrests, same run"),
        Figure("impact", f"ceiling: COUNT(*) of the period's arrests, {count:,} arrests", floor_ms, "ms", database,
               runs=runs),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=None, help="a database URL (default: a temporary SQLite file)")
    parser.add_argument("--arrests", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/impact.db"
        for figure in figures(url, arrests=args.arrests, runs=args.runs):
            print(f"{figure.name} [{figure.database}]: {figure.value:.1f} {figure.unit}  {figure.extra or ''}")


if __name__ == "__main__":
    main()
