"""How cost grows with records and with partners, each at three sizes.

    .venv/bin/python bench/growth.py [--url URL] [--quick]

- **Records**: one database grown to 1,000, 10,000 and 50,000 arrests (bench/seed.py) under one
  `pars serve --no-worker`; at each size the median latency of the same kind of name + birth-date
  search, by the FBI agent (through the gate) and by the booking clerk, one client, alternated.
  Indexed searches should not grow with the table.
- **Partners**: the same database with 1, 5 and 20 partner agencies, each under its own
  agreement with the feed channel; at each count the median time of the gate's per-event work
  (`sharing.gate.feed_audience`: every partner's grant in force and its scope over the event's
  record), in process. This one grows with partners by design: each is asked once per event.
- **Events**: the feed's own figures (bench/feed.py) have no size parameter; see its figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed
from figures import Figure
from partner_search import headers, targets
from server import serve

from pars.clock import SystemClock
from pars.records.models import Arrest
from pars.sharing.gate import feed_audience
from pars.work import unit_of_work

Progress = Callable[[str], None]


def search_latency(base_url: str, world: seed.World, requests: int) -> dict[str, float]:
    """Median milliseconds of a name + birth-date search, city and partner alternated."""
    who = headers(world)
    searches = targets(world, 100)
    timings: dict[str, list[float]] = {"city": [], "partner": []}
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for i in range(requests + 20):
            for name in ("city", "partner") if i % 2 == 0 else ("partner", "city"):
                started = time.perf_counter()
                response = client.get("/api/v1/arrests", params=searches[i % len(searches)], headers=who[name])
                elapsed = time.perf_counter() - started
                response.raise_for_status()
                if i >= 20:  # the first ones warm both paths
                    timings[name].append(elapsed)
    return {name: statistics.median(values) * 1000 for name, values in timings.items()}


def audience_time(world: seed.World, calls: int) -> float:
    """Median milliseconds of `feed_audience` for one event (one arrest in everyone's scope)."""
    factory = seed._factory(world)
    with unit_of_work(factory, SystemClock(), policy=seed._policy(world)) as session:
        arrest_id = session.scalars(select(Arrest.id).where(Arrest.sealed.is_(False)).limit(1)).one()
    timings = []
    with unit_of_work(factory, SystemClock(), policy=seed._policy(world)) as session:
        feed_audience(session, [arrest_id])
        for _ in range(calls):
            started = time.perf_counter()
            feed_audience(session, [arrest_id])
            timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def figures(url: str, *, quick: bool = False, progress: Progress | None = None) -> list[Figure]:
    sizes = (200, 1000, 3000) if quick else (1000, 10_000, 50_000)
    partner_counts = (1, 5, 20)
    requests = 40 if quick else 120
    out: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        world = seed.build(url, Path(tmp))
        database = world.engine.dialect.name
        have = 0
        with serve(world.settings) as server:
            for size in sizes:
                if progress:
                    progress(f"growth: {size:,} arrests")
                seed.add_arrests(world.engine, size - have, seed=size)
                have = size
                latency = search_latency(server.base_url, world, requests)
                for who in ("partner", "city"):
                    ceiling = latency["city"] if who == "partner" else None
                    out.append(Figure("growth", f"{who} search latency, {size:,} arrests", latency[who], "ms",
                                      database, better="lower", runs=requests, ceiling=ceiling,
                                      ceiling_name="city search latency, same run" if ceiling else "",
                                      note="median, one client, over HTTP"))  # fmt: skip
        for count in partner_counts:
            if progress:
                progress(f"growth: {count} partners")
            seed.add_partners(world, count - len(world.partners))
            value = audience_time(world, 50 if quick else 300)
            name = f"gate work per feed event, {count} partner agreement{'s' if count > 1 else ''}"
            out.append(Figure("growth", name, value, "ms", database, better="lower", runs=50 if quick else 300,
                              note="sharing.gate.feed_audience, in process"))  # fmt: skip
        world.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=None, help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/bench.db"
        for figure in figures(url, quick=args.quick, progress=print):
            print(f"{figure.name} [{figure.database}]: {figure.value:.2f} {figure.unit}")


if __name__ == "__main__":
    main()
