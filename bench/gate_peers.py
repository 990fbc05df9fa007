"""The PARS gate against two general policy engines doing the same work, and the real gate beside
the city's search.

    .venv/bin/python bench/gate_peers.py [--records 1000,10000] [--runs 5] [--searches 200]

**In memory, decide + project** (no database in the timing). Arrests (bench/seed.py) and an
FBI-like agreement approved through the sharing services are loaded once as ORM rows. Each engine
then answers one partner request over all of them, from the rows to the JSON-ready records that
leave, and every engine does the same work:

- the request is decided once (agreement in force, channel, purpose) and the *fields* once (not
  per record: the field policy depends on the agreement, not on the record);
- per record: the record is built from its rows (`arrest_record`, the one converter, inside the
  timing on every side), the scope is decided, and an admitted record is projected to the
  granted fields and made JSON-ready (`model_dump(mode="json")` on every side).

The engines:

- **PARS**: the compiled grant (`pars.sharing.grants`): `Scope.admits`, then `Grant.project`.
  Note that the real gate does not call `Scope.admits`: it filters scope in SQL (next row).
- **Cedar** (`cedarpy`): two policies parsed once (`PolicySet.from_str`); structured entity uids
  (`{"type": ..., "id": ...}`, as its users call it); one `is_authorized_batch` for the fields
  (`Field` resources) and one for the records; the context serialised once per request.
- **Casbin** (`pycasbin`): an ABAC model and two policy lines, loaded once; `enforce` per field
  once and per record.

All three must give the same records with the same fields, and the same records as the gate's SQL
scope filter, before anything is timed. The engines' order rotates from run to run; wall time
(`perf_counter`) and CPU time (`process_time`) are both recorded. Before each run the heap is
collected and frozen (`gc.freeze`), so that a full collection of the inputs lands in no engine's run.

**The real gate**: `pars.sharing.gate.search` (grant, quota, SQL scope filter, projection,
disclosure audit) for the FBI agent, against the city's `search_arrests` for the booking clerk,
the same name + birth-date searches, below HTTP in one thread (bench/partner_search.py
`below_http`). The city's search is the ceiling: the same search without the gate.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import casbin
import cedarpy
from casbin.persist.adapters.string_adapter import StringAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

import partner_search
import seed
from figures import Figure

from pars.records.fields import ALWAYS_PRESENT, GRANTABLE, RECORD_FIELDS
from pars.records.models import Arrest
from pars.records.record import ArrestRecord
from pars.records.serialize import arrest_record
from pars.settings import DEFAULT_PROTECTED_FIELDS
from pars.sharing.grants import Grant, grant_in_force

Record = dict[str, Any]
CHANNEL = "query"
# The fields a peer engine is asked about, once per request: every field an agreement may name (a
# protected field can never be granted, so no engine need be asked about it).
ASKABLE = tuple(name for name in RECORD_FIELDS if name not in DEFAULT_PROTECTED_FIELDS)
DIMENSIONS = ("grade", "title", "section")
ENGINES = ("pars", "cedar", "casbin")
LABELS = {"pars": "PARS compiled grant", "cedar": "Cedar (cedarpy, batch)", "casbin": "pycasbin ABAC"}


@dataclass(frozen=True)
class Case:
    """What every engine is given: the rows, the request and the agreement's grant."""

    arrests: list[Arrest]  # loaded ORM rows (person and charges too), detached
    grant: Grant
    purpose: str
    now: datetime
    sql_in_scope: frozenset[str]
    # The records already built from the rows (`arrest_record`), for the variant that leaves the
    # conversion out of the timing on every side; None: every engine converts inside the timing.
    prebuilt: list[ArrestRecord] | None = None

    def records(self) -> list[ArrestRecord]:
        return self.prebuilt if self.prebuilt is not None else [arrest_record(a) for a in self.arrests]


def load_case(records: int, workdir: Path) -> Case:
    with seed.database("sqlite", workdir) as url:
        world = seed.build(url, workdir)
        seed.add_arrests(world.engine, records, seed=7)
        now = datetime.now(UTC)
        with Session(world.engine) as session:
            grant = grant_in_force(session, "FBI", now)
            assert grant is not None
            arrests = list(session.scalars(select(Arrest).order_by(Arrest.arrested_at)).all())
            for arrest in arrests:
                arrest_record(arrest)  # loads every relationship the converter reads, before detaching
            in_scope = frozenset(str(i) for i in session.scalars(select(Arrest.id).where(grant.scope.condition())))
        world.engine.dispose()
    return Case(arrests, grant, seed.PURPOSE, now, in_scope)


Include = dict[str, Any]


def projection_of(fields: Iterable[str]) -> Include:
    """What a peer's caller builds once per request from the allowed fields: the members to
    serialise (pydantic's ``include``: a member whole, or some of its members), the always
    present ones first."""
    allowed = set(fields)
    include: Include = dict.fromkeys(ALWAYS_PRESENT, True)
    for member in GRANTABLE:
        if member.members is None:
            if member.name in allowed:
                include[member.name] = True
            continue
        granted = {m for m in member.members if f"{member.name}.{m}" in allowed}
        if granted:
            include[member.name] = granted
    return include


def project_json(record: ArrestRecord, include: Include) -> Record:
    """An admitted record as JSON, only the granted members serialised (what a peer engine's
    caller must build itself)."""
    return record.model_dump(mode="json", include=include)


def request_allowed(grant: Grant, case: Case) -> bool:
    return grant.starts <= case.now < grant.ends and CHANNEL in grant.channels and case.purpose in grant.purposes


# ---------------------------------------------------------------------------------------------
# PARS


def pars_engine(case: Case) -> list[Record]:
    grant = case.grant
    # Once per request, as `gate.authorise` does: in force, channel, purpose; the fields are the
    # grant's (its projection plan is computed once per grant).
    if not request_allowed(grant, case):
        return []
    admits, project = grant.scope.admits, grant.project
    return [project(record).model_dump(mode="json") for record in case.records() if admits(record)]


# ---------------------------------------------------------------------------------------------
# Cedar


def restricted(grant: Grant) -> tuple[str, ...]:
    """The charge dimensions the scope restricts, in `DIMENSIONS` order."""
    values = {"grade": grant.scope.grades, "title": grant.scope.titles, "section": grant.scope.sections}
    return tuple(d for d in DIMENSIONS if values[d] is not None)


def charge_keys(record: ArrestRecord, dims: tuple[str, ...]) -> list[str]:
    """Each charge as one key over the dimensions the agreement's scope restricts (`dims`), so
    that a policy can ask "one charge matches every restriction" (Cedar has no quantifier over a
    set of records). Generous to the peers: only the restricted dimensions, known once per
    agreement, are encoded."""
    prefixes = [d[0] for d in dims]
    return list({"|".join(f"{p}:{getattr(c, d)}" for p, d in zip(prefixes, dims, strict=True)) for c in record.charges})


def scope_keys(grant: Grant) -> list[str] | None:
    """The charge keys the scope accepts (None: no charge restriction)."""
    scope = grant.scope
    values = {"grade": scope.grades, "title": scope.titles, "section": scope.sections}
    dims = restricted(grant)
    if not dims:
        return None
    keys = [""]
    for dim in dims:
        allowed = sorted(values[dim] or ())
        keys = [f"{k}|{dim[0]}:{v}" if k else f"{dim[0]}:{v}" for k in keys for v in allowed]
    return keys


def _cedar_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def cedar_policies(grant: Grant) -> str:
    request = " && ".join([
        f'context.channel == "{CHANNEL}"',
        f"{_cedar_list(sorted(grant.purposes))}.contains(context.purpose)",
        f"context.now >= {int(grant.starts.timestamp())}",
        f"context.now < {int(grant.ends.timestamp())}",
    ])  # fmt: skip
    scope = ["resource.sealed == false"]
    keys = scope_keys(grant)
    if keys is not None:
        scope.append(f"resource.charge_keys.containsAny({_cedar_list(keys)})")
    if grant.scope.statuses is not None:
        scope.append(f"{_cedar_list(sorted(grant.scope.statuses))}.contains(resource.status)")
    fields = ", ".join(f'Field::"{name}"' for name in sorted(grant.fields))
    principal = f'principal == Agency::"{grant.agency}"'
    return (
        f'permit({principal}, action == Action::"disclose", resource is Arrest) '
        f"when {{ {request} && {' && '.join(scope)} }};\n"
        f'permit({principal}, action == Action::"read_field", resource is Field) '
        f"when {{ {request} && resource in [{fields}] }};\n"
    )


class CedarEngine:
    def __init__(self, grant: Grant) -> None:
        self.policies = cedarpy.PolicySet.from_str(cedar_policies(grant))  # parsed once
        self.principal = {"type": "Agency", "id": grant.agency}
        self.disclose = {"type": "Action", "id": "disclose"}
        self.read_field = {"type": "Action", "id": "read_field"}
        self.dims = restricted(grant)

    def __call__(self, case: Case) -> list[Record]:
        # The context is the same for every request of the batch: serialised once (cedarpy also
        # takes a dict and serialises it per request; the string is the cheaper documented form).
        context = json.dumps({"channel": CHANNEL, "purpose": case.purpose, "now": int(case.now.timestamp())})
        records = case.records()
        entities = [{"uid": self.principal, "attrs": {}, "parents": []}]
        entities += [
            {"uid": {"type": "Arrest", "id": str(r.id)},
             "attrs": {"status": r.status, "sealed": r.sealed, "charge_keys": charge_keys(r, self.dims)}, "parents": []}
            for r in records
        ]  # fmt: skip
        handle = cedarpy.Entities.from_json_str(json.dumps(entities))
        field_asks = [
            {"principal": self.principal, "action": self.read_field, "resource": {"type": "Field", "id": name},
             "context": context}
            for name in ASKABLE
        ]  # fmt: skip
        decided = cedarpy.is_authorized_batch(field_asks, self.policies, handle)
        plan = projection_of(name for name, d in zip(ASKABLE, decided, strict=True) if d.allowed)
        asks = [
            {"principal": self.principal, "action": self.disclose, "resource": {"type": "Arrest", "id": str(r.id)},
             "context": context}
            for r in records
        ]  # fmt: skip
        decisions = cedarpy.is_authorized_batch(asks, self.policies, handle)
        return [project_json(r, plan) for r, d in zip(records, decisions, strict=True) if d.allowed]


# ---------------------------------------------------------------------------------------------
# Casbin

CASBIN_MODEL = """
[request_definition]
r = sub, obj, act, field, ctx

[policy_definition]
p = sub, act, purposes, channel, window, fields, charge_keys, statuses

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.sub == p.sub && r.act == p.act && r.ctx.channel == p.channel && inList(r.ctx.purpose, p.purposes) \
&& within(r.ctx.now, p.window) && (p.fields == "*" || inList(r.field, p.fields)) \
&& (r.act == "read_field" || (r.obj.sealed == False && anyOf(r.obj.charge_keys, p.charge_keys) \
&& (p.statuses == "*" || inList(r.obj.status, p.statuses))))
"""


@functools.cache
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _in_list(value: str, listed: str) -> bool:
    return value in _words(listed)


def _any_of(keys: frozenset[str], listed: str) -> bool:
    return listed == "*" or not keys.isdisjoint(_words(listed))


def _within(instant: int, window: str) -> bool:
    starts, ends = window.split()
    return int(starts) <= instant < int(ends)


@dataclass(frozen=True)
class CasbinObject:
    status: str
    sealed: bool
    charge_keys: frozenset[str]


@dataclass(frozen=True)
class CasbinContext:
    channel: str
    purpose: str
    now: int


NO_OBJECT = CasbinObject("", sealed=True, charge_keys=frozenset())


class CasbinEngine:
    def __init__(self, grant: Grant) -> None:
        window = f"{int(grant.starts.timestamp())} {int(grant.ends.timestamp())}"
        keys = scope_keys(grant)
        common = (
            f"{' '.join(sorted(grant.purposes))}, {CHANNEL}, {window}",
            " ".join(keys) if keys is not None else "*",
            " ".join(sorted(grant.scope.statuses)) if grant.scope.statuses is not None else "*",
        )
        lines = [
            f"p, {grant.agency}, disclose, {common[0]}, *, {common[1]}, {common[2]}",
            f"p, {grant.agency}, read_field, {common[0]}, {' '.join(sorted(grant.fields))}, *, *",
        ]
        model = casbin.Enforcer.new_model(text=CASBIN_MODEL)
        self.enforcer = casbin.Enforcer(model, StringAdapter("\n".join(lines)))  # loaded once
        for name, function in (("inList", _in_list), ("anyOf", _any_of), ("within", _within)):
            self.enforcer.add_function(name, function)
        self.agency = grant.agency
        self.dims = restricted(grant)

    def __call__(self, case: Case) -> list[Record]:
        context = CasbinContext(CHANNEL, case.purpose, int(case.now.timestamp()))
        enforce = self.enforcer.enforce
        plan = projection_of(name for name in ASKABLE if enforce(self.agency, NO_OBJECT, "read_field", name, context))
        out = []
        for record in case.records():
            obj = CasbinObject(record.status, record.sealed, frozenset(charge_keys(record, self.dims)))
            if enforce(self.agency, obj, "disclose", "", context):
                out.append(project_json(record, plan))
        return out


# ---------------------------------------------------------------------------------------------
# The comparison

Engine = Callable[[Case], list[Record]]


def check_agreement(case: Case, results: dict[str, list[Record]]) -> dict[str, int]:
    """All engines gave the same records with the same fields, and the same records as the
    gate's SQL scope filter. Returns how many records each disclosed."""
    reference = results["pars"]
    for name, result in results.items():
        if result != reference:
            raise AssertionError(f"{name} disagrees with the PARS gate on {_first_difference(reference, result)}")
    if {r["id"] for r in reference} != case.sql_in_scope:
        raise AssertionError("the gate's in-memory scope disagrees with its SQL scope filter")
    return {name: len(result) for name, result in results.items()}


def _first_difference(expected: Sequence[Record], got: Sequence[Record]) -> str:
    if len(expected) != len(got):
        return f"the number of records ({len(expected)} against {len(got)})"
    for one, other in zip(expected, got, strict=True):
        if one != other:
            return f"record {one['id']}"
    return "nothing"


def time_engines(
    case: Case, engines: dict[str, Engine], runs: int, progress: Callable[[str], None] | None = None
) -> tuple[dict[str, dict[str, list[float]]], dict[str, int]]:
    """Wall and CPU seconds per run of each engine. The results of an untimed first round are
    checked to agree; then each run rotates the engines' order, so that neither drift nor a warm
    cache left by the engine before favours one engine."""
    disclosed = check_agreement(case, {name: engine(case) for name, engine in engines.items()})
    timings: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in engines}
    names = list(engines)
    for run in range(runs):
        shift = run % len(names)
        for name in names[shift:] + names[:shift]:
            if progress:
                progress(f"gate: {name}, run {run + 1}/{runs}")
            with _settled_heap():
                wall, cpu = time.perf_counter(), time.process_time()
                engines[name](case)
                timings[name]["cpu"].append(time.process_time() - cpu)
                timings[name]["wall"].append(time.perf_counter() - wall)
    return timings, disclosed


@contextlib.contextmanager
def _settled_heap() -> Iterator[None]:
    """Every run starts from the same collector state: what exists before it (the rows, the
    prebuilt records, the engines) is collected and set aside from the cyclic collector, so a
    full collection walking that heap never lands in one engine's run and not another's (in one
    suite run, single runs of every engine took 0.2 s or 0.9–1.7 s depending on that alone)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def memory_figures(count: int, runs: int, progress: Callable[[str], None] | None) -> list[Figure]:
    """At `count` records, both variants: the conversion from rows inside the timing on every
    side, then outside it on every side."""
    with tempfile.TemporaryDirectory() as tmp:
        rows = load_case(count, Path(tmp))
    out = []
    prebuilt = replace(rows, prebuilt=[arrest_record(a) for a in rows.arrests])
    for variant, case in (("conversion timed", rows), ("records prebuilt", prebuilt)):
        engines: dict[str, Engine] = {"pars": pars_engine, "cedar": CedarEngine(case.grant),
                                      "casbin": CasbinEngine(case.grant)}  # fmt: skip
        timings, disclosed = time_engines(case, engines, runs, progress)
        wall = {name: statistics.median(t["wall"]) for name, t in timings.items()}
        cpu = {name: statistics.median(t["cpu"]) for name, t in timings.items()}
        raw = {n: {k: [round(s, 5) for s in v] for k, v in t.items()} for n, t in timings.items()}
        what = f"decide+project in memory, {count:,} records, {variant}"
        for name in ENGINES:
            extra: dict[str, Any] = {"records": count, "disclosed": disclosed[name], "seconds": raw[name]}
            if name == "pars":
                extra["fields"] = sorted(case.grant.fields)
            out.append(Figure("gate", f"{LABELS[name]}: {what}", wall[name] * 1000, "ms", "-", better="lower",
                              runs=runs, cpu=cpu[name] * 1000, extra=extra))  # fmt: skip
        for peer in ("cedar", "casbin"):
            out.append(Figure("gate", f"PARS speed-up over {LABELS[peer]}: {what}", wall[peer] / wall["pars"], "×",
                              "-", runs=runs, cpu=cpu[peer] / cpu["pars"], statistic=f"ratio of medians of {runs}",
                              note="same results checked first"))  # fmt: skip
    return out


def figures(
    url: str | None = None,
    *,
    quick: bool = False,
    records: Sequence[int] | None = None,
    runs: int | None = None,
    searches: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Figure]:
    """The gate area of `make bench`, on SQLite files of its own whatever `url` says: the
    in-memory comparison at each record count, then the real gate below HTTP."""
    sizes = records or ((200,) if quick else (1_000, 10_000))
    runs = runs or 3
    out: list[Figure] = []
    for count in sizes:
        out.extend(memory_figures(count, runs, progress))
    arrests = 1_000 if quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        world = seed.build(f"sqlite:///{tmp}/gate.db", Path(tmp))
        try:
            seed.add_arrests(world.engine, arrests)
            out += partner_search.below_http_figures(world, arrests=arrests, area="gate", rounds=runs * 2,
                                                     requests=searches or (60 if quick else 300),
                                                     progress=progress)  # fmt: skip
        finally:
            world.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", default="1000,10000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--searches", type=int, default=300)
    args = parser.parse_args()
    sizes = [int(n) for n in args.records.split(",")]
    for figure in figures(records=sizes, runs=args.runs, searches=args.searches):
        print(f"{figure.name}: {figure.value:.2f} {figure.unit}  {figure.extra.get('cpu_ms', '')}")


if __name__ == "__main__":
    main()
