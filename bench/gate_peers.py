"""The PARS gate against two general policy engines, on the same agreement and the same records.

    .venv/bin/python bench/gate_peers.py [--records 10000] [--runs 5]

10,000 arrests (bench/seed.py) and an FBI-like agreement approved through the sharing services
are loaded once and serialised (`arrest_record`). Then each engine decides, for the FBI agent
querying under that agreement, which records may leave and which fields of each, and builds the
projected records:

- **PARS**: the compiled grant (`pars.sharing.grants`), as the gate uses it: the grant in force
  and the request's channel and purpose decided once, then per record the scope and the
  projection (a set lookup, then the granted members picked into a `SharedRecord`).
- **Cedar** (`cedarpy`): the agreement written as two Cedar policies (disclose a record; read a
  field of it), parsed once; one batch of per-record requests, then one batch of per-field
  requests (every field an agreement may name, for each record allowed), each with the
  request's context.
- **Casbin** (`pycasbin`): the agreement as an ABAC model and two policy lines.

All three must give the same records with the same fields (and the scope as SQL, the gate's own
filter, the same records) before anything is timed. Runs alternate between the engines.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

import casbin
import cedarpy
from casbin.persist.adapters.string_adapter import StringAdapter
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed
from figures import Figure

from pars.records.fields import RECORD_FIELDS
from pars.records.models import Arrest
from pars.records.record import ArrestRecord, SharedRecord
from pars.records.serialize import arrest_record
from pars.settings import DEFAULT_PROTECTED_FIELDS
from pars.sharing.grants import Grant, grant_in_force

Record = dict[str, Any]
CHANNEL = "query"
# The fields a peer engine is asked about, per record: every field an agreement may name (a
# protected field can never be granted, so no engine need be asked about it).
GRANTABLE = tuple(name for name in RECORD_FIELDS if name not in DEFAULT_PROTECTED_FIELDS)
DIMENSIONS = ("grade", "title", "section")


@dataclass(frozen=True)
class Case:
    """What every engine is given: the records, the request and the agreement's grant."""

    records: list[Record]  # as JSON, what a peer engine is given
    typed: list[ArrestRecord]  # the same records as PARS builds them (`arrest_record`)
    grant: Grant
    purpose: str
    now: datetime
    sql_in_scope: frozenset[str]


def load_case(records: int, workdir: Path) -> Case:
    with seed.database("sqlite", workdir) as url:
        world = seed.build(url, workdir)
        seed.add_arrests(world.engine, records, seed=7)
        now = datetime.now(UTC)
        with Session(world.engine) as session:
            grant = grant_in_force(session, "FBI", now)
            assert grant is not None
            arrests = session.scalars(select(Arrest).order_by(Arrest.arrested_at)).all()
            typed = [arrest_record(a) for a in arrests]
            in_scope = frozenset(str(i) for i in session.scalars(select(Arrest.id).where(grant.scope.condition())))
        world.engine.dispose()
    return Case([t.model_dump(mode="json") for t in typed], typed, grant, seed.PURPOSE, now, in_scope)


def project_fields(record: Record, fields: Iterable[str]) -> Record:
    """A record reduced to `fields` (what a peer engine's caller must build itself)."""
    out: Record = {"id": record["id"], "tracking_number": record["tracking_number"], "status": record["status"]}
    for name in fields:
        group, _, member = name.partition(".")
        if member:
            out.setdefault(group, {})[member] = record[group][member]
        else:
            out[group] = record[group]
    return out


# ---------------------------------------------------------------------------------------------
# PARS


def pars_engine(case: Case) -> list[SharedRecord]:
    grant = case.grant
    # Once per request, as `gate.authorise` does: in force, channel, purpose.
    if not (grant.starts <= case.now < grant.ends and CHANNEL in grant.channels and case.purpose in grant.purposes):
        return []
    admits, project = grant.scope.admits, grant.project
    return [project(record) for record in case.typed if admits(record)]


# ---------------------------------------------------------------------------------------------
# Cedar


def charge_keys(record: Record) -> list[str]:
    """Each charge as every combination of its grade, title and section, so that a policy can
    ask "one charge matches every restriction" whatever dimensions the scope restricts."""
    keys: set[str] = set()
    for charge in record["charges"]:
        parts = {"grade": f"g:{charge['grade']}", "title": f"t:{charge['title']}", "section": f"s:{charge['section']}"}
        for size in range(1, 4):
            for dims in combinations(DIMENSIONS, size):
                keys.add("|".join(parts[d] for d in dims))
    return sorted(keys)


def scope_keys(grant: Grant) -> list[str] | None:
    """The charge keys the scope accepts (None: no charge restriction)."""
    scope = grant.scope
    values = {"grade": scope.grades, "title": scope.titles, "section": scope.sections}
    restricted = [d for d in DIMENSIONS if values[d] is not None]
    if not restricted:
        return None
    keys = [""]
    for dim in restricted:
        allowed = sorted(values[dim] or ())
        keys = [f"{k}|{dim[0]}:{v}" if k else f"{dim[0]}:{v}" for k in keys for v in allowed]
    return keys


def _cedar_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def cedar_policies(grant: Grant) -> str:
    conditions = [
        f'context.channel == "{CHANNEL}"',
        f"{_cedar_list(sorted(grant.purposes))}.contains(context.purpose)",
        f"context.now >= {int(grant.starts.timestamp())}",
        f"context.now < {int(grant.ends.timestamp())}",
        "resource.sealed == false",
    ]
    keys = scope_keys(grant)
    if keys is not None:
        conditions.append(f"resource.charge_keys.containsAny({_cedar_list(keys)})")
    if grant.scope.statuses is not None:
        conditions.append(f"{_cedar_list(sorted(grant.scope.statuses))}.contains(resource.status)")
    scope = " && ".join(conditions)
    principal = f'principal == Agency::"{grant.agency}"'
    return (
        f'permit({principal}, action == Action::"disclose", resource is Arrest) when {{ {scope} }};\n'
        f'permit({principal}, action == Action::"read_field", resource is Arrest) when {{ {scope} && '
        f"{_cedar_list(sorted(grant.fields))}.contains(context.field) }};\n"
    )


class CedarEngine:
    def __init__(self, grant: Grant) -> None:
        self.policies = cedarpy.PolicySet.from_str(cedar_policies(grant))  # parsed once
        self.principal = f'Agency::"{grant.agency}"'

    def __call__(self, case: Case) -> list[Record]:
        entities = [{"uid": {"type": "Agency", "id": case.grant.agency}, "attrs": {}, "parents": []}]
        entities += [
            {"uid": {"type": "Arrest", "id": r["id"]},
             "attrs": {"status": r["status"], "sealed": r["sealed"], "charge_keys": charge_keys(r)}, "parents": []}
            for r in case.records
        ]  # fmt: skip
        handle = cedarpy.Entities.from_json_str(json.dumps(entities))
        # The context is the same for every record: serialised once, not once per request.
        context = {"channel": CHANNEL, "purpose": case.purpose, "now": int(case.now.timestamp())}
        record_context = json.dumps(context)
        field_contexts = [json.dumps(context | {"field": name}) for name in GRANTABLE]
        asks = [
            {"principal": self.principal, "action": 'Action::"disclose"', "resource": f'Arrest::"{r["id"]}"',
             "context": record_context}
            for r in case.records
        ]  # fmt: skip
        decided = cedarpy.is_authorized_batch(asks, self.policies, handle)
        allowed = [r for r, d in zip(case.records, decided, strict=True) if d.allowed]
        field_asks = [
            {"principal": self.principal, "action": 'Action::"read_field"', "resource": f'Arrest::"{r["id"]}"',
             "context": field_context}
            for r in allowed
            for field_context in field_contexts
        ]  # fmt: skip
        field_decisions = iter(cedarpy.is_authorized_batch(field_asks, self.policies, handle))
        out = []
        for record in allowed:
            fields = [name for name in GRANTABLE if next(field_decisions).allowed]
            out.append(project_fields(record, fields))
        return out


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
&& within(r.ctx.now, p.window) && r.obj.sealed == False && anyOf(r.obj.charge_keys, p.charge_keys) \
&& (p.statuses == "*" || inList(r.obj.status, p.statuses)) && (p.fields == "*" || inList(r.field, p.fields))
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
            f"p, {grant.agency}, read_field, {common[0]}, {' '.join(sorted(grant.fields))}, {common[1]}, {common[2]}",
        ]
        model = casbin.Enforcer.new_model(text=CASBIN_MODEL)
        self.enforcer = casbin.Enforcer(model, StringAdapter("\n".join(lines)))
        for name, function in (("inList", _in_list), ("anyOf", _any_of), ("within", _within)):
            self.enforcer.add_function(name, function)
        self.agency = grant.agency

    def __call__(self, case: Case) -> list[Record]:
        context = CasbinContext(CHANNEL, case.purpose, int(case.now.timestamp()))
        enforce, out = self.enforcer.enforce, []
        for record in case.records:
            obj = CasbinObject(record["status"], record["sealed"], frozenset(charge_keys(record)))
            if not enforce(self.agency, obj, "disclose", "", context):
                continue
            fields = [name for name in GRANTABLE if enforce(self.agency, obj, "read_field", name, context)]
            out.append(project_fields(record, fields))
        return out


# ---------------------------------------------------------------------------------------------
# The comparison

Engine = Callable[[Case], list[Any]]  # PARS: `SharedRecord`s; a peer: dicts


def check_agreement(case: Case, results: dict[str, list[Any]]) -> dict[str, int]:
    """All engines gave the same records with the same fields, and the same records as the
    gate's SQL scope filter. Returns how many records each disclosed. PARS's records are
    compared as the JSON they leave as."""
    results = {name: [_plain(r) for r in result] for name, result in results.items()}
    reference = results["pars"]
    for name, result in results.items():
        if result != reference:
            raise AssertionError(f"{name} disagrees with the PARS gate on {_first_difference(reference, result)}")
    if {r["id"] for r in reference} != case.sql_in_scope:
        raise AssertionError("the gate's in-memory scope disagrees with its SQL scope filter")
    return {name: len(result) for name, result in results.items()}


def _plain(record: Any) -> Record:
    return record.model_dump(mode="json") if isinstance(record, BaseModel) else record


def _first_difference(expected: Sequence[Record], got: Sequence[Record]) -> str:
    if len(expected) != len(got):
        return f"the number of records ({len(expected)} against {len(got)})"
    for one, other in zip(expected, got, strict=True):
        if one != other:
            return f"record {one['id']}"
    return "nothing"


def time_engines(
    case: Case, engines: dict[str, Engine], runs: int, progress: Callable[[str], None] | None = None
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Seconds per run of each engine, runs alternated so drift hits all alike; the results of
    the first round are checked to agree before the rest are timed."""
    timings: dict[str, list[float]] = {name: [] for name in engines}
    disclosed: dict[str, int] = {}
    for run in range(runs):
        results = {}
        for name, engine in engines.items():
            if progress:
                progress(f"gate: {name}, run {run + 1}/{runs}")
            started = time.perf_counter()
            results[name] = engine(case)
            timings[name].append(time.perf_counter() - started)
        if run == 0:
            disclosed = check_agreement(case, results)
    return timings, disclosed


def figures(
    url: str | None = None,
    *,
    quick: bool = False,
    records: int | None = None,
    runs: int = 5,
    progress: Callable[[str], None] | None = None,
) -> list[Figure]:
    """The gate area of `make bench`. Works on its own SQLite file whatever `url` says: the
    decision and projection involve no database."""
    count = records or (500 if quick else 10_000)
    with tempfile.TemporaryDirectory() as tmp:
        case = load_case(count, Path(tmp))
    engines: dict[str, Engine] = {"pars": pars_engine, "cedar": CedarEngine(case.grant),
                                  "casbin": CasbinEngine(case.grant)}  # fmt: skip
    timings, disclosed = time_engines(case, engines, runs, progress)
    medians = {name: statistics.median(t) for name, t in timings.items()}
    extra = {"records": count, "disclosed": disclosed["pars"], "fields": sorted(case.grant.fields),
             "seconds": {n: [round(s, 4) for s in t] for n, t in timings.items()}}  # fmt: skip
    out = [
        Figure("gate", f"PARS decide+project, {count:,} records", medians["pars"] * 1000, "ms", "-",
               better="lower", runs=runs, note="compiled grant, in process", extra=extra),
    ]  # fmt: skip
    for peer, label in (("cedar", "Cedar (cedarpy, batch)"), ("casbin", "pycasbin ABAC")):
        out.append(Figure("gate", f"{label} decide+project, {count:,} records", medians[peer] * 1000, "ms", "-",
                          better="lower", runs=runs))  # fmt: skip
        out.append(Figure("gate", f"PARS speed-up over {label}", medians[peer] / medians["pars"], "×", "-",
                          target=10, runs=runs, note="same results checked first"))  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for figure in figures(records=args.records, runs=args.runs):
        print(f"{figure.name}: {figure.value:.2f} {figure.unit}")


if __name__ == "__main__":
    main()
