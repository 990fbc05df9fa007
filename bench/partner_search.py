"""The cost of governance: a partner's search beside the same search by a city user (its ceiling),
below HTTP and over HTTP.

    .venv/bin/python bench/partner_search.py [--url URL] [--arrests 10000] [--rounds 40] [--profile]

A fresh database (bench/seed.py: the principals, FBI's agreement, `--arrests` arrests). The same
name + birth-date searches are made by the booking clerk (city: `search_arrests`, the records
built, the audit entry) and by the FBI agent (partner: `pars.sharing.gate.search`, that is the
grant, the quota, the scope filter in SQL, the projection and the disclosure accounting). Targets
are people with one identity (a partner's name search matching several people is refused,
CONTRACT §7); some of their arrests are outside FBI's scope, so the city gets records the partner
does not (checked: the partner's are the city's in scope).

- **Below HTTP**: each request as the API runs it (unit of work, authentication, the search, the
  JSON), in this thread, in alternated blocks (which caller goes first alternates too); wall and
  CPU time per caller.
- **Over HTTP**: `pars serve --no-worker` in a subprocess, driven by bench/loadgen.py in another
  process (4 connections), alternated blocks; the load generator's CPU time is reported.

The figure is partner throughput / city throughput: the city's search is the ceiling, the same
search without the gate.

`--profile` instead runs both callers' searches below HTTP under pyinstrument (SQLite) and
prints both profiles: what the gate costs beyond the city path.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed
from figures import Figure
from server import drive, serve

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


def targets(world: seed.World, count: int, *, mixed: bool = False) -> list[dict[str, str]]:
    """Name + birth-date searches that match one person (a partner's name search that matches
    several people is refused as ambiguous, CONTRACT §7). Without `mixed`, every match is in FBI's
    scope (city and partner see the same records); with it, half the searches match arrests
    outside the scope too (or only), which the partner's SQL filter leaves out."""
    with Session(world.engine) as session:
        grant = grant_in_force(session, "FBI", datetime.now(UTC))
        assert grant is not None
        person = (Arrest.last_key, Arrest.dob)
        scoped = select(*person, func.count()).where(grant.scope.condition()).group_by(*person)
        in_scope = {(key, dob): n for key, dob, n in session.execute(scoped)}
        people = func.count(distinct(Arrest.person_id))
        every = select(*person, func.count(), people, func.min(Arrest.last_name)).group_by(*person).order_by(*person)
        inside, outside = [], []
        for key, dob, n, persons, last in session.execute(every):
            if persons == 1:
                found = inside if in_scope.get((key, dob)) == n else outside
                found.append({"last_name": last, "dob": dob.isoformat()})
    if not mixed:
        return _spread(inside, count)
    half = _spread(inside, count // 2), _spread(outside, count - count // 2)
    return [query for pair in zip(*half, strict=False) for query in pair]


def _spread(found: list[dict[str, str]], count: int) -> list[dict[str, str]]:
    """Spread over the alphabet rather than the first names in order."""
    step = max(1, len(found) // max(count, 1))
    return found[::step][:count]


def runner(world: seed.World) -> Callable[[str, dict[str, str]], bytes]:
    """One search as the API runs it, below HTTP: the unit of work (its commit seals the audit
    entries), authentication, the search (through the gate for a partner) and the JSON."""
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

    return one


def check_partner_sees_city_in_scope(one: Callable[[str, dict[str, str]], bytes], world: seed.World,
                                     searches: list[dict[str, str]]) -> dict[str, int]:  # fmt: skip
    """The partner gets exactly the city's records that are in scope; returns the records each
    caller got over `searches`."""
    with Session(world.engine) as session:
        grant = grant_in_force(session, "FBI", datetime.now(UTC))
        assert grant is not None
        in_scope = {str(i) for i in session.scalars(select(Arrest.id).where(grant.scope.condition()))}
    got = {"city": 0, "partner": 0}
    for query in searches:
        city = {item["id"] for item in json.loads(one(world.keys["booking"], query))["items"]}
        partner = {item["id"] for item in json.loads(one(world.keys["fbi"], query))["items"]}
        if partner != city & in_scope:
            raise AssertionError(f"the partner's records are not the city's in scope for {query}")
        got["city"] += len(city)
        got["partner"] += len(partner)
    return got


def below_http(world: seed.World, searches: list[dict[str, str]], *, rounds: int, per_block: int,
               progress: Progress | None = None) -> dict[str, Any]:  # fmt: skip
    """Wall and CPU seconds per block of each caller, blocks alternated (and which goes first)."""
    one = runner(world)
    keys = {"city": world.keys["booking"], "partner": world.keys["fbi"]}
    got = check_partner_sees_city_in_scope(one, world, searches)
    for key in keys.values():  # warm both paths
        for query in searches[:40]:
            one(key, query)
    spent: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in keys}
    for run in range(rounds):
        if progress and run % 5 == 0:
            progress(f"below HTTP, round {run + 1}/{rounds}")
        chunk = [searches[(run * per_block + i) % len(searches)] for i in range(per_block)]
        for name in ("city", "partner") if run % 2 == 0 else ("partner", "city"):
            wall, cpu = time.perf_counter(), time.process_time()
            for query in chunk:
                one(keys[name], query)
            spent[name]["cpu"].append(time.process_time() - cpu)
            spent[name]["wall"].append(time.perf_counter() - wall)
    return {"spent": spent, "records": got}


def below_http_figures(world: seed.World, *, arrests: int, area: str, requests: int, rounds: int,
                       progress: Progress | None = None) -> list[Figure]:  # fmt: skip
    """The real gate (`gate.search`) beside the city's search, below HTTP, on `world` (which
    holds `arrests` arrests): per caller the throughput over all blocks, and the ratio (the
    median of the per-block ratios in `extra`)."""
    searches = targets(world, 200, mixed=True)
    per_block = max(1, requests // rounds)
    result = below_http(world, searches, rounds=rounds, per_block=per_block, progress=progress)
    database = world.engine.dialect.name
    spent = result["spent"]
    total = rounds * per_block
    rate = {name: total / sum(t["wall"]) for name, t in spent.items()}
    cpu_ms = {name: round(sum(t["cpu"]) / total * 1000, 3) for name, t in spent.items()}
    ratios = [c / p for c, p in zip(spent["city"]["wall"], spent["partner"]["wall"], strict=True)]
    what = f"below HTTP, {arrests:,} arrests, one thread"
    extra = {"arrests": arrests, "blocks": rounds, "requests_per_block": per_block, "cpu_ms_per_request": cpu_ms,
             "records_returned": result["records"], "median_of_block_ratios": round(statistics.median(ratios), 3),
             "block_seconds": {n: [round(x, 4) for x in t["wall"]] for n, t in spent.items()},
             "searches": "half of them match arrests outside the scope too (or only)"}  # fmt: skip
    statistic = f"requests / summed time of {rounds} blocks"
    return [
        Figure(area, f"city search, {what}", rate["city"], "/s", database, runs=rounds, statistic=statistic,
               note="search_arrests, records built, audit entry: the ceiling of the row below"),
        Figure(area, f"real gate: partner search (gate.search: SQL scope, projection, disclosure audit), {what}",
               rate["partner"], "/s", database, target_vs_ceiling=0.9 if area == "governance" else None,
               runs=rounds, statistic=statistic, ceiling=rate["city"], ceiling_name="city search, same run",
               extra=extra),
    ]  # fmt: skip


def _request(head: dict[str, str], query: dict[str, str]) -> dict[str, Any]:
    return {"method": "GET", "target": "/api/v1/arrests?" + urlencode(query), "headers": head}


def over_http(world: seed.World, searches: list[dict[str, str]], *, rounds: int, per_block: int) -> dict[str, Any]:
    """`pars serve --no-worker` driven by bench/loadgen.py in its own process, alternated blocks."""
    who = headers(world)
    with serve(world.settings) as server:
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            for query in searches[:20]:  # the same check as below HTTP, through the API
                got = {}
                for name, head in who.items():
                    response = client.get("/api/v1/arrests", params=query, headers=head)
                    response.raise_for_status()
                    got[name] = {item["id"] for item in response.json()["items"]}
                if not got["partner"] <= got["city"]:
                    raise AssertionError(f"the partner sees records the city does not for {query}")
        warm = [_request(who[name], q) for name in who for q in searches[:40]]
        phases = []
        for run in range(rounds):
            chunk = [searches[(run * per_block + i) % len(searches)] for i in range(per_block)]
            for name in ("city", "partner") if run % 2 == 0 else ("partner", "city"):
                phases.append((name, [_request(who[name], q) for q in chunk]))
        results = drive(server, phases, connections=CLIENTS, warm=warm)
    spent: dict[str, dict[str, list[float]]] = {"city": {"wall": [], "cpu": []}, "partner": {"wall": [], "cpu": []}}
    for result in results:
        spent[result["name"]]["wall"].append(result["wall_s"])
        spent[result["name"]]["cpu"].append(result["cpu_s"])
    return {"spent": spent, "server_cpu_s": results[0]["server_cpu_s"], "requests": len(results) * per_block}


def figures(url: str, *, quick: bool = False, progress: Progress | None = None,
            arrests: int | None = None, rounds: int | None = None) -> list[Figure]:  # fmt: skip
    """Below HTTP (the real gate beside the city's search), then over HTTP: each caller's
    throughput is its requests over the time its blocks took; the ratio partner / city."""
    count = arrests or (1000 if quick else 10_000)
    rounds = rounds or (6 if quick else 30)
    per_block = 12 if quick else 24
    with tempfile.TemporaryDirectory() as tmp:
        world = seed.build(url, Path(tmp))
        seed.add_arrests(world.engine, count)
        out = below_http_figures(world, arrests=count, area="governance", requests=rounds * per_block,
                                 rounds=rounds, progress=progress)  # fmt: skip
        searches = targets(world, 200, mixed=True)
        database = world.engine.dialect.name
        if progress:
            progress("over HTTP")
        result = over_http(world, searches, rounds=rounds, per_block=per_block)
        world.engine.dispose()
    spent = result["spent"]
    rate = {name: rounds * per_block / sum(t["wall"]) for name, t in spent.items()}
    ratios = [c / p for c, p in zip(spent["city"]["wall"], spent["partner"]["wall"], strict=True)]
    client_cpu_ms = round(sum(sum(t["cpu"]) for t in spent.values()) / result["requests"] * 1000, 3)
    extra = {"arrests": count, "connections": CLIENTS, "rounds": rounds, "requests_per_block": per_block,
             "median_of_round_ratios": round(statistics.median(ratios), 3),
             "load_generator_cpu_ms_per_request": client_cpu_ms,
             "server_cpu_ms_per_request": round(result["server_cpu_s"] / result["requests"] * 1000, 3),
             "block_seconds": {n: [round(x, 4) for x in t["wall"]] for n, t in spent.items()}}  # fmt: skip
    what = f"over HTTP, {CLIENTS} connections, {count:,} arrests"
    statistic = f"requests / summed time of {rounds} blocks"
    return [
        *out,
        Figure("governance", f"city search, {what}", rate["city"], "/s", database, runs=rounds, statistic=statistic,
               note="the ceiling of the row below"),
        Figure("governance", f"partner search (gate, projection, disclosure audit), {what}", rate["partner"],
               "/s", database, target_vs_ceiling=0.9, runs=rounds, statistic=statistic, ceiling=rate["city"],
               ceiling_name="city search, same run", note="load generator in its own process (bench/loadgen.py)",
               extra=extra),
    ]  # fmt: skip


def profile(arrests: int, requests: int) -> None:
    """What a request does below HTTP, in this thread under pyinstrument (SQLite): the unit of
    work, authentication, the search (through the gate for the partner) and the JSON. The
    server runs the same code in its thread pool, where a sampling profiler does not look."""
    from pyinstrument import Profiler  # noqa: PLC0415 - only the profile needs it

    with tempfile.TemporaryDirectory() as tmp:
        world = seed.build(f"sqlite:///{tmp}/profile.db", Path(tmp))
        seed.add_arrests(world.engine, arrests)
        searches = targets(world, 200, mixed=True)
        one = runner(world)
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
