"""Intake: bookings per second over HTTP, 16 connections, beside a trivial write endpoint on the
same server (the ceiling).

    .venv/bin/python bench/intake.py [--url URL] [--bookings 250] [--runs 5] [--profile]

A fresh database (bench/seed.py: the principals and FBI's agreement, with the feed channel, so
every booking is an event due to a partner), served by bench/bench_server.py: `pars serve`'s own
set-up (the same application, engine, pool, middleware and uvicorn options), `--no-worker` first,
then with its worker fanning the events out while bookings arrive, plus the bench-only route
``POST /bench/insert`` (one INSERT of the body + COMMIT through the same session factory): the
least a write request can cost on this server. Realistic bookings (the demo's people, places and
charges, one person in twelve booked again) are generated beforehand and sent by bench/loadgen.py,
a separate process, over 16 keep-alive connections; in each run the same number of the same
bodies go to the ceiling route, the two alternating which goes first. Each rate is requests /
wall time; the figures are medians over runs, with the load generator's and the server's CPU
time per request.

`--profile` instead books in this process under pyinstrument (SQLite, below HTTP): the unit of
work, authentication, validation, identity resolution, numbering, the audit entry, the outbox
event and the JSON.
"""

from __future__ import annotations

import argparse
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed
from figures import Figure
from server import drive, serve

from pars.demo.people import random_person
from pars.demo.places import random_arrest_details, random_charges

CLIENTS = 16
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


def _posts(target: str, key: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    head = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    return [{"method": "POST", "target": target, "headers": head, "body": json.dumps(b)} for b in bodies]


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
            rates: dict[str, list[float]] = {"booking": [], "ceiling": []}
            refused = {"booking": 0, "ceiling": 0}
            cpu: dict[str, list[float]] = {"booking": [], "ceiling": [], "loadgen": []}
            with serve(world.settings, worker=worker, ceiling=True) as server:
                drive(server, [("warm", _posts("/api/v1/arrests", key, warm))], connections=CLIENTS,
                      warm=_posts("/bench/insert", key, warm))  # fmt: skip
                for run in range(runs):
                    if progress:
                        progress(f"intake ({database}, {label}): run {run + 1}/{runs}")
                    bodies = work[run + (runs if worker else 0)]
                    phases = {"booking": _posts("/api/v1/arrests", key, bodies),
                              "ceiling": _posts("/bench/insert", key, bodies)}  # fmt: skip
                    for name in ("booking", "ceiling") if run % 2 == 0 else ("ceiling", "booking"):
                        [result] = drive(server, [(name, phases[name])], connections=CLIENTS, refused_ok=True)
                        # Only what was done counts: a 503 (SQLite busy past its timeout) is counted apart.
                        done = sum(n for code, n in result["statuses"].items() if code.startswith("2"))
                        refused[name] += per_run - done
                        rates[name].append(done / result["wall_s"])
                        cpu[name].append(result["server_cpu_s"] / per_run * 1000)
                        cpu["loadgen"].append(result["cpu_s"] / per_run * 1000)
            booked, ceiling = statistics.median(rates["booking"]), statistics.median(rates["ceiling"])
            server_cpu = {k: round(statistics.median(cpu[k]), 3) for k in ("booking", "ceiling")}
            extra = {"per_run": per_run, "connections": CLIENTS, "server_cpu_ms_per_request": server_cpu,
                     "refused_503": refused,
                     "rates": {k: [round(r, 1) for r in v] for k, v in rates.items()},
                     "load_generator_cpu_ms_per_request": round(statistics.median(cpu["loadgen"]), 3)}  # fmt: skip
            out.append(Figure("intake", f"INSERT+COMMIT endpoint (ceiling), {CLIENTS} connections, {label}", ceiling,
                              "/s", database, runs=runs, note="bench-only route, same server set-up"))  # fmt: skip
            out.append(Figure("intake", f"bookings/s, {CLIENTS} connections, pars serve {label}", booked, "/s",
                              database, runs=runs, ceiling=ceiling, ceiling_name="INSERT+COMMIT endpoint, same run",
                              target_vs_ceiling=None if worker else 0.5, extra=extra,
                              note=f"{refused['booking']} of {per_run * runs} answered 503 (busy), not counted"
                              if refused["booking"] else ""))  # fmt: skip
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
    from pars.records.intake import book  # noqa: PLC0415
    from pars.records.schemas import ArrestIn  # noqa: PLC0415
    from pars.records.serialize import booked_record  # noqa: PLC0415
    from pars.work import act_as, unit_of_work  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        world = seed.build(f"sqlite:///{tmp}/profile.db", Path(tmp))
        seed.add_arrests(world.engine, 5000)
        policy = CheckpointPolicy.from_settings(world.settings, load_signer(world.settings.audit_key_file))
        factory = make_session_factory(world.engine)
        bodies = [json.dumps(b) for b in bookings(count + 50, seed_value=3, first_incident=500_000)]

        def one(raw: str) -> bytes:
            # As the route does it: booked, committed, then the answer made from what was written.
            with unit_of_work(factory, SystemClock(), policy=policy) as session:
                actor = authenticate(session, world.keys["booking"])
                act_as(session, actor)
                booking = book(session, actor, ArrestIn.model_validate_json(raw))
            return booked_record(booking).model_dump_json().encode()

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
