"""Intake: bookings per second over HTTP, 16 clients at once, against `pars serve`.

    .venv/bin/python bench/intake.py [--url URL] [--bookings 600] [--runs 5] [--worker] [--profile]

A fresh database (bench/seed.py: the principals and FBI's agreement, with the feed channel, so
every booking is an event due to a partner) and `pars serve --no-worker` (or with its worker,
which then fans the events out while bookings arrive) in a subprocess. Realistic bookings (the
demo's people, places and charges, one person in twelve booked again) are generated beforehand
and posted by 16 asyncio clients; each run's rate is bookings / wall time, the figure is the
median over runs.

`--profile` instead books in this process under pyinstrument (SQLite, below HTTP): the unit of
work, authentication, validation, identity resolution, numbering, the audit entry, the outbox
event and the JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed
from figures import Figure
from server import serve

from pars.demo.people import random_person
from pars.demo.places import random_arrest_details, random_charges

CLIENTS = 16
TARGETS = {"sqlite": 300.0, "postgresql": 500.0}
Progress = Callable[[str], None]


def bookings(count: int, *, seed_value: int, first_incident: int) -> list[dict[str, Any]]:
    """Booking bodies as a booking terminal sends them (CONTRACT §5)."""
    rng = random.Random(seed_value)  # noqa: S311 - reproducible bench data, not a secret
    now = datetime.now(UTC).replace(microsecond=0)
    people: list[dict[str, Any]] = []
    issued: set[str] = set()
    bodies = []
    for n in range(count):
        arrested_at = now - timedelta(minutes=rng.randint(10, 36 * 60))
        if people and rng.random() < 1 / 12:
            person = rng.choice(people)
        else:
            person = random_person(rng, today=arrested_at.date(), issued=issued)
            people.append(person)
        details = random_arrest_details(rng, arrested_at=arrested_at, sequence=first_incident + n)
        bodies.append({"person": person, "arrest": details, "charges": random_charges(rng),
                       "narrative": "Officers responded to a radio call and made the arrest."})  # fmt: skip
    return bodies


async def _post_all(base_url: str, key: str, bodies: list[dict[str, Any]]) -> float:
    """Posts every body, CLIENTS at a time; returns the wall time."""
    queue = list(reversed(bodies))
    head = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:

        async def one() -> None:
            while queue:
                body = json.dumps(queue.pop())
                response = await client.post("/api/v1/arrests", content=body, headers=head)
                if response.status_code != 201:
                    raise RuntimeError(f"booking answered {response.status_code}: {response.text[:300]}")

        # Warm the connections (and the server) before the clock starts.
        await client.get("/healthz")
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(CLIENTS)))
        return time.perf_counter() - started


def figures(url: str, *, quick: bool = False, progress: Progress | None = None,
            per_run: int | None = None, runs: int | None = None) -> list[Figure]:  # fmt: skip
    per_run = per_run or (60 if quick else 250)
    runs = runs or (2 if quick else 5)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        world = seed.build(url, Path(tmp))
        database = world.engine.dialect.name
        key = world.keys["booking"]
        warm = bookings(CLIENTS * 4, seed_value=0, first_incident=0)
        work = [bookings(per_run, seed_value=run + 1, first_incident=(run + 1) * 10_000) for run in range(runs * 2)]
        for worker in (False, True):
            label = "with the worker" if worker else "--no-worker"
            rates = []
            with serve(world.settings, worker=worker) as server:
                asyncio.run(_post_all(server.base_url, key, warm))
                for run in range(runs):
                    if progress:
                        progress(f"intake ({database}, {label}): run {run + 1}/{runs}")
                    bodies = work[run + (runs if worker else 0)]
                    rates.append(per_run / asyncio.run(_post_all(server.base_url, key, bodies)))
            extra = {"per_run": per_run, "rates": [round(r, 1) for r in rates]}
            out.append(Figure("intake", f"bookings/s, {CLIENTS} clients, pars serve {label}",
                              statistics.median(rates), "/s", database,
                              target=None if worker else TARGETS[database], runs=runs, extra=extra))  # fmt: skip
        world.engine.dispose()
    return out


def profile(count: int) -> None:
    """Bookings below HTTP, in this thread, under pyinstrument (SQLite)."""
    from pyinstrument import Profiler  # noqa: PLC0415 - only the profile needs it

    from pars.audit.chain import CheckpointPolicy  # noqa: PLC0415
    from pars.audit.signing import load_signer  # noqa: PLC0415
    from pars.auth.service import authenticate  # noqa: PLC0415
    from pars.clock import SystemClock  # noqa: PLC0415
    from pars.db import make_session_factory  # noqa: PLC0415
    from pars.records.intake import book_arrest  # noqa: PLC0415
    from pars.records.schemas import ArrestIn  # noqa: PLC0415
    from pars.records.serialize import arrest_record  # noqa: PLC0415
    from pars.work import act_as, unit_of_work  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        world = seed.build(f"sqlite:///{tmp}/profile.db", Path(tmp))
        seed.add_arrests(world.engine, 5000)
        policy = CheckpointPolicy.from_settings(world.settings, load_signer(world.settings.audit_key_file))
        factory = make_session_factory(world.engine)
        bodies = [json.dumps(b) for b in bookings(count + 50, seed_value=3, first_incident=500_000)]

        def one(raw: str) -> bytes:
            with unit_of_work(factory, SystemClock(), policy=policy) as session:
                actor = authenticate(session, world.keys["booking"])
                act_as(session, actor)
                record = arrest_record(book_arrest(session, actor, ArrestIn.model_validate_json(raw)))
            return record.model_dump_json().encode()

        for raw in bodies[:50]:
            one(raw)
        profiler = Profiler(interval=0.0002)
        started = time.perf_counter()
        profiler.start()
        for raw in bodies[50:]:
            one(raw)
        profiler.stop()
        print(f"== {count / (time.perf_counter() - started):.0f} bookings/s below HTTP, one thread")
        print(profiler.output_text(color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=None, help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--bookings", type=int, default=500, help="bookings per run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.profile:
        profile(args.bookings)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/bench.db"
        for figure in figures(url, per_run=args.bookings, runs=args.runs, progress=print):
            print(f"{figure.name} [{figure.database}]: {figure.value:.1f} {figure.unit}  {figure.extra}")


if __name__ == "__main__":
    main()
