"""The cost of governance: a partner's search against the same search by a city user, over HTTP.

    .venv/bin/python bench/partner_search.py [--url URL] [--arrests 10000] [--rounds 40] [--profile]

A fresh database (bench/seed.py: the principals, FBI's agreement, `--arrests` arrests), served by
`pars serve --no-worker` in a subprocess; clients on real sockets. The same name + birth-date
searches are sent by the booking clerk (city) and by the FBI agent (partner: the grant, the
quota, the scope filter in SQL, the projection, the disclosure accounting), in small blocks
that alternate between the two (and which goes first), 4 clients at a time. Targets are people
whose arrests are all in the agreement's scope, so both callers get the same records back
(checked). Each caller's throughput is its requests over the time its blocks took; the figure is
partner throughput / city throughput.

`--profile` instead runs the city's and the partner's search below HTTP, in this thread, under
pyinstrument (SQLite) and prints both profiles: what the gate costs beyond the city path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed
from figures import Figure
from server import serve

from pars.audit.chain import CheckpointPolicy
from pars.audit.signing import load_signer
from pars.auth.service import authenticate
from pars.clock import SystemClock
from pars.db import make_session_factory
from pars.records.models import Arrest
from pars.records.search import parse_search, search_arrests
from pars.records.serialize import arrest_record
from pars.sharing import gate
from pars.sharing.gate import PartnerRequest
from pars.sharing.grants import grant_in_force
from pars.work import act_as, unit_of_work

CLIENTS = 4
Progress = Callable[[str], None]


def headers(world: seed.World) -> dict[str, dict[str, str]]:
    return {
        "city": {"Authorization": f"Bearer {world.keys['booking']}"},
        "partner": {
            "Authorization": f"Bearer {world.keys['fbi']}",
            "PARS-Purpose": seed.PURPOSE,
            "PARS-Case-Reference": "FBI-BENCH-0001",
        },
    }


def targets(world: seed.World, count: int) -> list[dict[str, str]]:
    """Name + birth-date searches whose every match is in FBI's scope (so city and partner see
    the same records) and is one person (a partner's name search that matches several people is
    refused as ambiguous, CONTRACT §7)."""
    with Session(world.engine) as session:
        grant = grant_in_force(session, "FBI", datetime.now(UTC))
        assert grant is not None
        person = (Arrest.last_key, Arrest.dob)
        scoped = select(*person, func.count()).where(grant.scope.condition()).group_by(*person)
        in_scope = {(key, dob): n for key, dob, n in session.execute(scoped)}
        people = func.count(distinct(Arrest.person_id))
        every = select(*person, func.count(), people, func.min(Arrest.last_name)).group_by(*person).order_by(*person)
        found = []
        for key, dob, n, persons, last in session.execute(every):
            if in_scope.get((key, dob)) == n and persons == 1:
                found.append({"last_name": last, "dob": dob.isoformat()})
    # Spread over the alphabet rather than the first names in order.
    step = max(1, len(found) // count)
    return found[::step][:count]


async def _block(
    client: httpx.AsyncClient, head: dict[str, str], params: list[dict[str, str]]
) -> tuple[float, list[float]]:
    """Sends every search of `params`, CLIENTS at a time; returns (seconds, latencies)."""
    queue = list(reversed(params))
    latencies: list[float] = []

    async def one() -> None:
        while queue:
            query = queue.pop()
            started = time.perf_counter()
            response = await client.get("/api/v1/arrests", params=query, headers=head)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"search answered {response.status_code}: {response.text[:300]}")

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(CLIENTS)))
    return time.perf_counter() - started, latencies


async def _compare(base_url: str, world: seed.World, searches: list[dict[str, str]], rounds: int,
                   per_block: int, progress: Progress | None) -> dict[str, Any]:  # fmt: skip
    who = headers(world)
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        # Both callers get the same records back.
        for query in searches[:20]:
            got = {}
            for name, head in who.items():
                response = await client.get("/api/v1/arrests", params=query, headers=head)
                response.raise_for_status()
                got[name] = sorted(item["id"] for item in response.json()["items"])
            if got["city"] != got["partner"]:
                raise AssertionError(f"city and partner see different records for {query}")
        await _block(client, who["city"], searches[:40])  # warm both paths
        await _block(client, who["partner"], searches[:40])
        seconds = {"city": 0.0, "partner": 0.0}
        latencies: dict[str, list[float]] = {"city": [], "partner": []}
        ratios = []
        for run in range(rounds):
            if progress and run % 5 == 0:
                progress(f"round {run + 1}/{rounds}")
            chunk = [searches[(run * per_block + i) % len(searches)] for i in range(per_block)]
            # Small blocks, alternating which caller goes first: whatever else the machine does
            # falls on both alike.
            order = ("city", "partner") if run % 2 == 0 else ("partner", "city")
            spent = {}
            for name in order:
                spent[name], lat = await _block(client, who[name], chunk)
                seconds[name] += spent[name]
                latencies[name].extend(lat)
            ratios.append(spent["city"] / spent["partner"])
    return {"seconds": seconds, "latencies": latencies, "ratios": ratios}


def figures(url: str, *, quick: bool = False, progress: Progress | None = None,
            arrests: int | None = None, rounds: int | None = None) -> list[Figure]:  # fmt: skip
    """Throughput of each caller = its requests / the time its blocks took, over all rounds;
    the figure is partner throughput / city throughput."""
    count = arrests or (1000 if quick else 10_000)
    rounds = rounds or (6 if quick else 40)
    per_block = 12 if quick else 24
    with tempfile.TemporaryDirectory() as tmp:
        world = seed.build(url, Path(tmp))
        seed.add_arrests(world.engine, count)
        searches = targets(world, 300)
        database = world.engine.dialect.name
        with serve(world.settings) as server:
            result = asyncio.run(_compare(server.base_url, world, searches, rounds, per_block, progress))
        world.engine.dispose()
    seconds, latencies = result["seconds"], result["latencies"]
    rate = {name: rounds * per_block / spent for name, spent in seconds.items()}
    median_ms = {name: round(statistics.median(values) * 1000, 2) for name, values in latencies.items()}
    extra = {"arrests": count, "clients": CLIENTS, "rounds": rounds, "requests_per_block": per_block,
             "median_of_round_ratios": round(statistics.median(result["ratios"]), 3),
             "median_latency_ms": median_ms}  # fmt: skip
    note = f"{CLIENTS} clients over HTTP, {count:,} arrests, {rounds} alternated rounds"
    return [
        Figure("governance", "city search throughput", rate["city"], "/s", database, runs=rounds),
        Figure("governance", "partner search throughput (gate, projection, disclosure audit)", rate["partner"],
               "/s", database, runs=rounds),
        Figure("governance", "partner/city search throughput", rate["partner"] / rate["city"], "×", database,
               target=0.9, runs=rounds, note=note, extra=extra),
    ]  # fmt: skip


def profile(arrests: int, requests: int) -> None:
    """What a request does below HTTP, in this thread under pyinstrument (SQLite): the unit of
    work, authentication, the search (through the gate for the partner) and the JSON. The
    server runs the same code in its thread pool, where a sampling profiler does not look."""
    from pyinstrument import Profiler  # noqa: PLC0415 - only the profile needs it

    with tempfile.TemporaryDirectory() as tmp:
        world = seed.build(f"sqlite:///{tmp}/profile.db", Path(tmp))
        seed.add_arrests(world.engine, arrests)
        searches = targets(world, 200)
        policy = CheckpointPolicy.from_settings(world.settings, load_signer(world.settings.audit_key_file))
        factory = make_session_factory(world.engine)
        request = PartnerRequest(purpose=seed.PURPOSE, case_reference="FBI-BENCH-0001")
        zone = world.settings.zone

        def one(key: str, params: dict[str, str]) -> bytes:
            with unit_of_work(factory, SystemClock(), policy=policy) as session:
                actor = authenticate(session, key)
                act_as(session, actor)
                query = parse_search(params)
                if actor.is_partner:
                    page = gate.search(session, actor, query, request, zone=zone)
                    items = [r.model_dump(mode="json") for r in page.items]
                else:
                    found = search_arrests(session, actor, query).items
                    items = [arrest_record(a).model_dump(mode="json") for a in found]
            return json.dumps({"items": items}).encode()

        for name, key in (("city", world.keys["booking"]), ("partner", world.keys["fbi"])):
            for params in searches[:50]:
                one(key, params)
            profiler = Profiler(interval=0.0002)
            started = time.perf_counter()
            profiler.start()
            for i in range(requests):
                one(key, searches[i % len(searches)])
            profiler.stop()
            elapsed = time.perf_counter() - started
            print(f"== {name}: {requests / elapsed:.0f} searches/s below HTTP")
            print(profiler.output_text(color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=None, help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--arrests", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    if args.profile:
        profile(args.arrests, args.requests)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/bench.db"
        for figure in figures(url, arrests=args.arrests, rounds=args.rounds, progress=print):
            print(f"{figure.name} [{figure.database}]: {figure.value:.2f} {figure.unit}  {figure.extra or ''}")


if __name__ == "__main__":
    main()
