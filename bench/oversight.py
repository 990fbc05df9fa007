"""Misuse-detection scan rate: audit entries per second over a trail of a million entries.

    .venv/bin/python bench/oversight.py [--url sqlite:///...] [--entries 1000000] [--batch 20000]

Builds a year of trail in a temporary database (entries shaped as ``record_disclosure`` and
``record_event`` write them, chained with the real encoding, one insert per day; the agencies
and arrests through the real services): eight partner agencies making case-bound
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
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from pars.actors import SYSTEM, Actor, CityActor, PartnerActor
from pars.audit import AuditAction, Outcome
from pars.audit.canonical import entry_hash, instant_text, plain_details
from pars.audit.chain import CheckpointPolicy, checkpoint_policy
from pars.audit.models import AuditEntry, AuditHead
from pars.audit.signing import load_signer
from pars.auth.schemas import AgencyIn
from pars.auth.service import create_agency
from pars.cli import initialise
from pars.clock import FrozenClock, SystemClock
from pars.db import make_engine, make_session_factory
from pars.oversight.models import Alert
from pars.oversight.scan import scan
from pars.permissions import Role
from pars.records import intake
from pars.records.schemas import ArrestIn
from pars.settings import Settings
from pars.work import unit_of_work

sys.path.insert(0, str(Path(__file__).resolve().parent))  # as bench/suite.py: modules side by side
from audit_chain import verification_figures
from figures import Figure
from seed import empty_schema

SCAN_TARGET_S = 10.0  # for 1,000,000 entries
SCAN_RATE_TARGET = 100_000.0  # entries per second: the same target as a rate
SCAN_MEMORY_TARGET_MB = 500.0

START = datetime(2025, 1, 1, 5, tzinfo=UTC)  # midnight in Philadelphia
LAWFUL = ["FBI", "ATF", "USMS", "DEA", "HSI", "PSP", "NJSP", "USPIS"]
FIELDS = ["charges", "id", "person.dob", "person.name", "status", "tracking_number"]


def _arrests(factory: object, policy: CheckpointPolicy, count: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    clerk = CityActor(None, "PPD", frozenset({Role.BOOKING}))
    made = []
    with unit_of_work(factory, FrozenClock(START), policy=policy, actor=clerk) as session:  # type: ignore[arg-type]
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


class DirectWriter:
    """Appends entries as the chain does at commit (numbered after the head, each hashed over
    its predecessor with the real encoding, the head moved), but with one plain insert per
    day instead of the unit of work per entry: writing a million entries through
    ``record_event`` took longer than everything measured on them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with engine.connect() as conn:
            head = conn.execute(select(AuditHead.seq, AuditHead.hash)).one()
        self.seq, self.hash = int(head.seq), str(head.hash)
        self.rows: list[dict[str, Any]] = []

    def add(self, at: datetime, actor: Actor, action: AuditAction, target: object | None,
            details: dict[str, Any] | None, outcome: Outcome = Outcome.OK) -> None:  # fmt: skip
        self.seq += 1
        plain = plain_details(details)
        row = {"seq": self.seq, "at": at, "actor_id": actor.user_id, "agency": actor.agency_code,
               "action": str(action), "outcome": str(outcome), "target": None if target is None else str(target),
               "details": plain, "prev_hash": self.hash}  # fmt: skip
        self.hash = row["hash"] = entry_hash(
            seq=self.seq, at=instant_text(at), actor=actor.user_id, agency=actor.agency_code, action=str(action),
            outcome=str(outcome), target=row["target"], details=plain, prev_hash=row["prev_hash"],
        )  # fmt: skip
        self.rows.append(row)

    def commit(self) -> None:
        with self.engine.begin() as conn:
            if self.rows:
                conn.execute(insert(AuditEntry), self.rows)
            conn.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=self.seq, hash=self.hash))
        self.rows = []


def _write_trail(engine: Engine, total: int, people: list[tuple[uuid.UUID, uuid.UUID]], rng: random.Random) -> int:
    """About ``total`` entries over 365 days, one transaction per city day."""
    actors = {code: PartnerActor(uuid.uuid4(), code, frozenset({Role.PARTNER})) for code in [*LAWFUL, "ICE", "CBP"]}
    city = CityActor(uuid.uuid4(), "PPD", frozenset({Role.BOOKING}))
    agreement = uuid.uuid4()
    per_hour = total / (365 * 24)
    written, case = 0, 0
    trail = DirectWriter(engine)
    for day in range(365):
        for hour in range(24):
            at = START + timedelta(days=day, hours=hour)
            night = hour < 5
            acts = max(1, int(rng.gauss(per_hour, per_hour / 4))) if written < total else 0
            for n in range(acts):
                when = at + timedelta(seconds=3600 * n / acts)
                roll = rng.random()
                record = rng.choice(people)
                if roll < 0.25:  # city reads and workflow
                    trail.add(when, city, AuditAction.ARREST_READ, record[0], None)
                elif night and roll < 0.6:  # ICE's nightly sweep: names, no case
                    details = _query(agreement, None, record, parameters=["first_name", "last_name"])
                    trail.add(when, actors["ICE"], AuditAction.ARREST_SEARCH, None, details)
                elif roll < 0.602:  # CBP: after its agreement ended; sometimes a probe
                    reason = "protected_field_probe" if rng.random() < 0.2 else "no_agreement_in_force"
                    details = {"reason": reason, "parameters": ["place_of_birth"]}
                    trail.add(when, actors["CBP"], AuditAction.ARREST_SEARCH, None, details, Outcome.REFUSED)
                else:  # a lawful partner: a case, a search or a read
                    case += 1
                    code = rng.choice(LAWFUL)
                    action = rng.choice([AuditAction.ARREST_SEARCH, AuditAction.ARREST_READ])
                    trail.add(when, actors[code], action, None, _query(agreement, f"{code}-{case}", record))
            written += acts
        trail.commit()
    return written


def build(url: str, key_file: Path, entries: int, arrests: int) -> tuple[int, float]:
    settings = Settings(database_url=url, audit_key_file=key_file)
    engine = make_engine(url)
    initialise(settings, engine)
    factory, policy = make_session_factory(engine), checkpoint_policy(settings)
    with unit_of_work(factory, FrozenClock(START), policy=policy) as session:
        for code in [*LAWFUL, "ICE", "CBP"]:
            create_agency(session, SYSTEM, AgencyIn(code=code, name=code, kind="partner"))
    people = _arrests(factory, policy, arrests)
    began = time.perf_counter()
    _write_trail(engine, entries, people, random.Random(2018))  # noqa: S311 - a reproducible trail, not a secret
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
    result = scan(factory, SystemClock(), settings, policy=checkpoint_policy(settings))
    took = time.perf_counter() - began
    with factory() as session:
        rows = session.execute(select(Alert.agency, Alert.rule, func.count()).group_by(Alert.agency, Alert.rule))
        alerts = {f"{agency} {rule}": n for agency, rule, n in rows}
    engine.dispose()
    return {
        "database": engine.dialect.name, "entries_scanned": result.entries, "queries_scanned": result.queries,
        "scan_seconds": round(took, 2), "entries_per_second": round(result.entries / took), "batch": batch,
        "alerts_raised": result.raised, "alerts": alerts,
        "scan_process_peak_rss_mb": round(_peak_rss_kib() / 1024),
    }  # fmt: skip


def _peak_rss_kib() -> int:
    """This process's own peak resident memory. Not `getrusage(...).ru_maxrss`: Linux carries that
    over from the parent across fork and exec, so a scan started from a large bench process
    would report the parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: the best there is


def scan_in_child(url: str, key_file: Path, batch: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--url", url, "--batch", str(batch), "--scan-only", str(key_file)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603 - this very script
    scanned: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return scanned


def figures(url: str, *, quick: bool = False) -> list[Figure]:
    """The scan over a year of trail (1,000,000 entries; 20,000 when ``quick``), once per
    database: its time, rate and peak memory (in a process of its own). Verification of the
    same trail is measured here too, so the million entries are written once for both."""
    entries, batch = (20_000, 5_000) if quick else (1_000_000, 20_000)
    engine = make_engine(url)
    empty_schema(engine)
    engine.dispose()
    with tempfile.TemporaryDirectory() as tmp:
        key_file = Path(tmp) / "audit.key"
        _, wrote = build(url, key_file, entries, 200 if quick else 2_000)
        scanned = scan_in_child(url, key_file, batch)
        engine = make_engine(url)
        try:
            verified = verification_figures(
                engine, load_signer(key_file).public_key, runs=1 if quick else 3,
                note="the oversight bench's trail, just written; a new interpreter",
            )  # fmt: skip
        finally:
            engine.dispose()
    database = scanned["database"]
    full = entries >= 1_000_000  # the size asked for: the writer makes about that many
    size = f"{scanned['entries_scanned']:,} entries"
    return [
        Figure("oversight", f"scan of {size}", scanned["scan_seconds"], "s", database,
               target=SCAN_TARGET_S if full else None, better="lower",
               note=f"{scanned['alerts_raised']} alerts raised; trail written in {wrote:.0f} s",
               extra={"alerts": scanned["alerts"], "batch": batch}),
        Figure("oversight", f"scan rate, {size}", scanned["entries_per_second"], "/s", database,
               target=SCAN_RATE_TARGET if full else None, ceiling=verified[0].value,
               ceiling_name="reading the trail's stored columns alone, one process, same run"),
        Figure("memory", f"peak RSS of the oversight scan over {size}", scanned["scan_process_peak_rss_mb"], "MB",
               database, target=SCAN_MEMORY_TARGET_MB, better="lower", note="the scan in a process of its own"),
        *verified,
    ]  # fmt: skip


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
        scanned = scan_in_child(url, key_file, args.batch)
        print(json.dumps({"trail_entries": total, "write_seconds": round(wrote, 1), **scanned}, indent=2))


if __name__ == "__main__":
    main()
