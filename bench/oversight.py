"""Misuse-detection scan rate: audit entries per second over a trail of a million entries.

    .venv/bin/python bench/oversight.py [--url sqlite:///...] [--entries 1000000] [--batch 20000]

Builds a year of trail in a temporary database through the real writers (``record_disclosure``
and ``record_event``, chained and hashed at commit): eight partner agencies making case-bound
queries in office hours, one sweeping names every night without a case, one asking after its
agreement ended, probes by place of birth, and city users' reads and workflow entries (a
quarter of the trail) that the detectors read past. Then it times ``pars.oversight.scan.scan``
from an empty cursor to the end of the trail, in batches, as the worker and ``pars oversight
scan`` do, and reports entries per second, alerts raised, and the process's peak memory (the
scan streams the trail: memory does not grow with it).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from pars.audit import AuditAction, Outcome, record_event
from pars.audit.models import AuditEntry
from pars.auth.permissions import Role
from pars.auth.principal import SYSTEM, Actor
from pars.auth.schemas import AgencyIn
from pars.auth.service import create_agency
from pars.cli import initialise
from pars.clock import FrozenClock, SystemClock
from pars.db import make_engine, make_session_factory
from pars.oversight.models import Alert
from pars.oversight.scan import scan
from pars.records import intake
from pars.records.schemas import ArrestIn
from pars.settings import Settings
from pars.work import unit_of_work

START = datetime(2025, 1, 1, 5, tzinfo=UTC)  # midnight in Philadelphia
LAWFUL = ["FBI", "ATF", "USMS", "DEA", "HSI", "PSP", "NJSP", "USPIS"]
FIELDS = ["charges", "id", "person.dob", "person.name", "status", "tracking_number"]


def _arrests(factory: object, count: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    clerk = Actor(None, "PPD", "city", frozenset({Role.BOOKING}))
    made = []
    with unit_of_work(factory, FrozenClock(START), clerk) as session:  # type: ignore[arg-type]
        for i in range(count):
            body = {
                "person": {"name": {"first": f"First{i}", "last": f"Last{i}"}, "dob": "1980-01-01", "race": "Black",
                           "ethnicity": "Non-Hispanic"},
                "arrest": {"arrested_at": "2024-12-31T12:00:00-05:00", "district": "24", "arresting_agency": "PPD"},
                "charges": [{"statute": "18 § 2701 §§ A1", "grade": "M2"}],
            }  # fmt: skip
            arrest = intake.book_arrest(session, clerk, ArrestIn.model_validate(body))
            made.append((arrest.id, arrest.person_id))
    return made


def _query(agreement: uuid.UUID, case: str | None, record: tuple[uuid.UUID, uuid.UUID], **extra: object) -> dict:
    """A disclosure entry's details, as ``record_disclosure`` writes them (the accounting rows of
    the ``disclosures`` table are left out: the detectors read the trail only)."""
    return {
        "agreement_id": str(agreement), "agreement_version": 1, "purpose": "criminal_investigation",
        "case_reference": case, "channel": "query", "records": [str(record[0])], "fields": FIELDS, **extra,
    }  # fmt: skip


def _write_trail(factory: object, total: int, people: list[tuple[uuid.UUID, uuid.UUID]], rng: random.Random) -> int:
    """About ``total`` entries over 365 days, one transaction per city day."""
    actors = {code: Actor(uuid.uuid4(), code, "partner", frozenset({Role.PARTNER})) for code in [*LAWFUL, "ICE", "CBP"]}
    city = Actor(uuid.uuid4(), "PPD", "city", frozenset({Role.BOOKING}))
    agreement = uuid.uuid4()
    per_hour = total / (365 * 24)
    written, case = 0, 0
    clock = FrozenClock(START)
    for day in range(365):
        with unit_of_work(factory, clock) as session:  # type: ignore[arg-type]
            for hour in range(24):
                at = START + timedelta(days=day, hours=hour)
                night = hour < 5
                acts = max(1, int(rng.gauss(per_hour, per_hour / 4))) if written < total else 0
                for n in range(acts):
                    clock.set(at + timedelta(seconds=3600 * n / acts))
                    roll = rng.random()
                    record = rng.choice(people)
                    if roll < 0.25:  # city reads and workflow
                        record_event(session, city, AuditAction.ARREST_READ, record[0])
                    elif night and roll < 0.6:  # ICE's nightly sweep: names, no case
                        details = _query(agreement, None, record, parameters=["first_name", "last_name"])
                        record_event(session, actors["ICE"], AuditAction.ARREST_SEARCH, None, details)
                    elif roll < 0.602:  # CBP: after its agreement ended; sometimes a probe
                        reason = "protected_field_probe" if rng.random() < 0.2 else "no_agreement_in_force"
                        details = {"reason": reason, "parameters": ["place_of_birth"]}
                        record_event(session, actors["CBP"], AuditAction.ARREST_SEARCH, None, details,
                                     outcome=Outcome.REFUSED)  # fmt: skip
                    else:  # a lawful partner: a case, a search or a read
                        case += 1
                        code = rng.choice(LAWFUL)
                        action = rng.choice([AuditAction.ARREST_SEARCH, AuditAction.ARREST_READ])
                        record_event(session, actors[code], action, None, _query(agreement, f"{code}-{case}", record))
                written += acts
    return written


def build(url: str, key_file: Path, entries: int, arrests: int) -> tuple[int, float]:
    settings = Settings(database_url=url, audit_key_file=key_file)
    engine = make_engine(url)
    initialise(settings, engine)
    factory = make_session_factory(engine)
    with unit_of_work(factory, FrozenClock(START)) as session:
        for code in [*LAWFUL, "ICE", "CBP"]:
            create_agency(session, SYSTEM, AgencyIn(code=code, name=code, kind="partner"))
    people = _arrests(factory, arrests)
    began = time.perf_counter()
    _write_trail(factory, entries, people, random.Random(2018))  # noqa: S311 - a reproducible trail, not a secret
    wrote = time.perf_counter() - began
    with factory() as session:
        total = session.scalar(select(func.max(AuditEntry.seq))) or 0
    engine.dispose()
    return total, wrote


def measure(url: str, key_file: Path, batch: int) -> dict[str, object]:
    """The scan alone, in a fresh process, so its peak memory is its own."""
    settings = Settings(database_url=url, audit_key_file=key_file, oversight_scan_batch=batch)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    began = time.perf_counter()
    result = scan(factory, SystemClock(), settings)
    took = time.perf_counter() - began
    with factory() as session:
        rows = session.execute(select(Alert.agency, Alert.rule, func.count()).group_by(Alert.agency, Alert.rule))
        alerts = {f"{agency} {rule}": n for agency, rule, n in rows}
    engine.dispose()
    return {
        "database": engine.dialect.name, "entries_scanned": result.entries, "queries_scanned": result.queries,
        "scan_seconds": round(took, 2), "entries_per_second": round(result.entries / took), "batch": batch,
        "alerts_raised": result.raised, "alerts": alerts,
        "scan_process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=None, help="a database to fill (default: a temporary SQLite file)")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--arrests", type=int, default=2_000)
    parser.add_argument("--scan-only", metavar="KEY_FILE", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scan_only:
        print(json.dumps(measure(args.url, Path(args.scan_only), args.batch)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/bench.db"
        key_file = Path(tmp) / "audit.key"
        total, wrote = build(url, key_file, args.entries, args.arrests)
        command = [sys.executable, __file__, "--url", url, "--batch", str(args.batch), "--scan-only", str(key_file)]
        done = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603 - this very script
        scanned = json.loads(done.stdout.splitlines()[-1])
        print(json.dumps({"trail_entries": total, "write_seconds": round(wrote, 1), **scanned}, indent=2))


if __name__ == "__main__":
    main()
