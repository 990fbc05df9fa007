"""What the hash chain costs, and how fast verification goes.

    .venv/bin/python bench/audit_chain.py [--url URL] [--bookings 500] [--entries 200000]

1. Append overhead: books the same arrests through ``pars.records.intake.book_arrest``, one unit
   of work each, once with the chain and once with entries written as before it (no head lock, no
   hash), each on a fresh database, and prints bookings per second.
2. Verification: fills a trail of ``--entries`` chained entries, then times ``verify_trail`` over
   it (entries per second, reading included) and the hashing alone over rows held in memory.

Without ``--url`` it runs on a temporary SQLite file; with a PostgreSQL URL give a database that
may be emptied (the tables are dropped and rebuilt).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.orm import Session

from pars.actors import CityActor
from pars.audit import chain
from pars.audit import verify as audit_verify
from pars.audit.canonical import GENESIS, entry_hash, instant_text
from pars.audit.chain import CheckpointPolicy
from pars.audit.models import AuditEntry, AuditHead
from pars.audit.reading import stored_batches, stored_columns, with_computed_hashes
from pars.audit.signing import create_key_file, load_signer
from pars.audit.verify import verify_trail
from pars.clock import FrozenClock
from pars.db import make_engine, make_session_factory
from pars.migrate import upgrade
from pars.permissions import Role
from pars.records.intake import book_arrest
from pars.records.schemas import ArrestIn
from pars.settings import Settings
from pars.work import unit_of_work

sys.path.insert(0, str(Path(__file__).resolve().parent))  # as bench/suite.py: modules side by side
from figures import Figure
from seed import empty_schema

OVERHEAD_TARGET = 10.0  # per cent
VERIFY_TARGET = 500_000.0  # entries per second

CLERK = CityActor(user_id=uuid.uuid4(), agency_code="PPD", roles=frozenset({Role.BOOKING}))
NOW = datetime(2026, 3, 17, 19, 0, tzinfo=UTC)


def _fresh(url: str, **options: Any) -> Engine:
    engine = make_engine(url, **options)
    empty_schema(engine)
    upgrade(engine)
    return engine


def _booking(index: int) -> ArrestIn:
    return ArrestIn.model_validate(
        {
            "person": {"name": {"first": f"Person{index}", "last": "Bench"}, "dob": "1990-05-04"},
            "arrest": {"arrested_at": "2026-03-17T09:30:00-04:00", "district": "24",
                       "incident_number": f"26{index:08d}", "arresting_agency": "PPD", "arresting_officer": "4471"},
            "charges": [{"statute": "18 § 2701 §§ A1", "grade": "M2"}],
        }
    )  # fmt: skip


def _unchained(session: Session, entry: AuditEntry) -> None:
    """The trail as it was before the chain: each entry inserted with the change, no hash."""
    values = {c.key: getattr(entry, c.key) for c in AuditEntry.__table__.columns if c.key != "seq"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seq left to the database, as the identity column did
        session.execute(insert(AuditEntry.__table__).values(values | {"prev_hash": "", "hash": ""}))


def bookings_per_second(url: str, key: Path, count: int, *, chained: bool, writers: int = 1) -> float:
    """`count` bookings, one unit of work each, by `writers` threads at once (each its own
    connection: the pool is sized to them), on a fresh database."""
    engine = _fresh(url, pool_size=writers, max_overflow=0)
    if not chained and engine.dialect.name == "postgresql":
        # Without the chain PARS would need an identity column back; emulate it.
        with engine.begin() as conn:
            conn.execute(
                text("CREATE SEQUENCE bench_seq; ALTER TABLE audit_entries ALTER seq SET DEFAULT nextval('bench_seq')")
            )
    settings = Settings(database_url=url, audit_key_file=key)
    policy = CheckpointPolicy.from_settings(settings, load_signer(key))
    factory = make_session_factory(engine)
    bodies = [_booking(i) for i in range(count)]
    original = chain.stage
    if not chained:
        chain.stage = _unchained

    def book(share: list[ArrestIn]) -> None:
        for body in share:
            with unit_of_work(factory, FrozenClock(NOW), policy=policy) as session:
                book_arrest(session, CLERK, body)

    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(book, [bodies[i::writers] for i in range(writers)]))
        elapsed = time.perf_counter() - started
    finally:
        chain.stage = original
        engine.dispose()
    return count / elapsed


def fill_trail(engine: Engine, count: int) -> None:
    """`count` chained entries of realistic shape, written directly (the hashing is the real one)."""
    prev, rows = GENESIS, []
    with engine.begin() as conn:
        conn.execute(AuditHead.__table__.delete())
        for seq in range(1, count + 1):
            at = NOW + timedelta(seconds=seq, microseconds=seq % 999_999)
            details = (
                {"agreement_id": str(uuid.uuid4()), "agreement_version": 1, "purpose": "criminal_investigation",
                 "case_reference": "FBI-PH-2026-0042", "channel": "query", "records": [str(uuid.uuid4())],
                 "fields": ["id", "person.dob", "person.name", "status", "tracking_number"]}
                if seq % 3 == 0 else {"results": seq % 50}
            )  # fmt: skip
            row = {"seq": seq, "at": at, "actor_id": CLERK.user_id, "agency": "FBI", "action": "arrest.read",
                   "outcome": "ok", "target": str(uuid.uuid4()), "details": details, "prev_hash": prev}  # fmt: skip
            prev = row["hash"] = entry_hash(
                seq=seq, at=instant_text(at), actor=CLERK.user_id, agency="FBI", action="arrest.read", outcome="ok",
                target=row["target"], details=details, prev_hash=row["prev_hash"],
            )  # fmt: skip
            rows.append(row)
            if len(rows) == 20_000:
                conn.execute(insert(AuditEntry), rows)
                rows = []
        if rows:
            conn.execute(insert(AuditEntry), rows)
        conn.execute(insert(AuditHead).values(id=1, seq=count, hash=prev, checkpoint_seq=0))


def append_figures(url: str, *, bookings: int, runs: int, writers: tuple[int, ...] = (1, 16)) -> list[Figure]:
    """Bookings per second with and without the chain, by one writer and by many at once
    (concurrent commits queue on the chain's head), alternated ``runs`` times on fresh databases
    so machine noise hits both alike; the cost of the chain from the medians (signed: a negative
    cost is noise)."""
    database = make_engine(url).dialect.name
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "bench.key"
        create_key_file(key)
        bookings_per_second(url, key, min(50, bookings), chained=True)  # warm-up: imports, catalog, caches
        for count in writers:
            measured: dict[bool, list[float]] = {False: [], True: []}
            for run in range(runs):
                for chained in (False, True) if run % 2 == 0 else (True, False):
                    measured[chained].append(bookings_per_second(url, key, bookings, chained=chained, writers=count))
            plain, with_chain = statistics.median(measured[False]), statistics.median(measured[True])
            overhead = (plain - with_chain) / plain * 100
            who = "one writer" if count == 1 else f"{count} concurrent writers (threads, below HTTP)"
            out.append(
                Figure("audit", f"append overhead, {who}: bookings/s without vs with the chain", round(overhead, 1),
                       "%", database, target=OVERHEAD_TARGET, better="lower", runs=runs,
                       statistic=f"1 − ratio of medians of {runs}",
                       note=f"{plain:,.0f}/s without, {with_chain:,.0f}/s with; {bookings} bookings a run",
                       extra={"without_per_s": _rounded(measured[False]), "with_per_s": _rounded(measured[True])})
            )  # fmt: skip
    return out


def drop_page_cache() -> bool:
    """Empties the operating system's page cache (root only: ``/proc/sys/vm/drop_caches``), so the
    next read of the trail comes from the disk; False where that is not allowed. PostgreSQL's own
    shared buffers are not emptied (that needs a restart of the server)."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n", encoding="ascii")
    except OSError:
        return False
    return True


def verify_in_child(url: str, public_key: str, *, workers: int) -> dict[str, float]:
    """`verify_trail` in a new process (as `pars audit verify` runs it: nothing cached in the
    interpreter), the page cache dropped first where this user may, timed inside it."""
    cold = drop_page_cache()
    command = [sys.executable, __file__, "--verify-child", url, "--public-key", public_key, "--workers", str(workers)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603 - this very script
    result: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return result | {"cold": float(cold)}


def _verify_child(url: str, public_key: str, workers: int) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        wall, cpu = time.perf_counter(), time.process_time()
        result = verify_trail(session, public_key=public_key, workers=workers)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert result.ok, result.problems[:3]
    engine.dispose()
    print(json.dumps({"entries": result.entries, "seconds": wall, "cpu_seconds": cpu}))


def read_and_hash(engine: Engine) -> dict[str, float]:
    """The two halves of verification, timed apart over the whole trail in one process: reading
    the stored columns exactly as ``verify_trail(..., workers=1)`` reads them (its session's
    connection, ``reading.stored_batches`` up to the head, batch after batch of ``verify.BATCH``:
    the driver's tuples, a server-side cursor on PostgreSQL), and recomputing the hashes of rows
    already in memory. Each half is a strict bound: verification does both, and more."""
    dialect = engine.dialect.name
    reading = hashing = 0.0
    entries = 0
    with Session(engine) as session:
        connection = session.connection()
        head = session.execute(select(AuditHead.seq)).scalar()
        batches = stored_batches(connection, last=head, batch=audit_verify.BATCH)
        while True:
            started = time.perf_counter()
            rows = next(batches, None)
            reading += time.perf_counter() - started
            if rows is None:
                break
            started = time.perf_counter()
            for _ in with_computed_hashes(rows, dialect=dialect):
                pass
            hashing += time.perf_counter() - started
            entries += len(rows)
    return {"entries": entries, "reading_s": reading, "hashing_s": hashing}


def verification_figures(engine: Engine, public_key: str, *, runs: int, note: str = "") -> list[Figure]:
    """Verification in new processes (every core, as `pars audit verify` runs it, ``runs``
    times; then one process, once), beside its ceilings measured in the same run: reading alone and
    hashing alone, one process. A process that only reads and hashes verifies at most at
    1 / (1/read + 1/hash) a second; N processes at most N times that."""
    url = engine.url.render_as_string(hide_password=False)
    database = engine.dialect.name
    every = [verify_in_child(url, public_key, workers=0) for _ in range(runs)]
    one = [verify_in_child(url, public_key, workers=1)]  # once: the make bench budget
    parts = read_and_hash(engine)
    entries = int(parts["entries"])
    read_rate, hash_rate = entries / parts["reading_s"], entries / parts["hashing_s"]
    bound = 1 / (1 / read_rate + 1 / hash_rate)
    cores = os.cpu_count() or 1
    rate = {"every": statistics.median(r["entries"] / r["seconds"] for r in every),
            "one": statistics.median(r["entries"] / r["seconds"] for r in one)}  # fmt: skip
    raw = {"every_core_s": [round(r["seconds"], 3) for r in every],
           "one_process_s": [round(r["seconds"], 3) for r in one],
           "reading_s": round(parts["reading_s"], 3), "hashing_s": round(parts["hashing_s"], 3)}  # fmt: skip
    size = f"{entries:,} entries"
    cold = all(r["cold"] for r in every + one)
    cache = "page cache dropped before each run" if cold else "page cache not dropped (not root)"
    if database == "postgresql":
        cache += "; PostgreSQL's shared buffers kept"
    return [
        Figure("audit", f"reading alone (stored columns, one process), {size}", round(read_rate), "/s", database,
               note="a ceiling of verification"),
        Figure("audit", f"hashing alone (rows in memory, one process), {size}", round(hash_rate), "/s", database,
               note="a ceiling of verification"),
        Figure("audit", f"entries/s verified, one process (new process, reading included), {size}", round(rate["one"]),
               "/s", database, runs=1, ceiling=round(bound),
               ceiling_name="1 / (1/reading + 1/hashing), same run: verification reads as the reading row does",
               note=cache, extra=raw),
        Figure("audit", f"entries/s verified, {cores} processes (new process, reading included), {size}",
               round(rate["every"]), "/s", database, target=VERIFY_TARGET, runs=runs, ceiling=round(bound * cores),
               ceiling_name=f"{cores} × (1 / (1/reading + 1/hashing)), same run",
               note=f"{note}; {cache}" if note else cache, extra=raw),
    ]  # fmt: skip


def figures(url: str, *, quick: bool = False) -> list[Figure]:
    """The append overhead. Verification is measured over the oversight bench's
    million-entry trail, built once per database for both (``bench/oversight.py`` calls
    ``verification_figures``), so this module builds no trail of its own here."""
    return append_figures(url, bookings=50 if quick else 400, runs=1 if quick else 3)


def timed(label: str, work: Callable[[], int]) -> None:
    started = time.perf_counter()
    done = work()
    elapsed = time.perf_counter() - started
    print(f"{label}: {done} entries in {elapsed:.2f} s = {done / elapsed:,.0f} entries/s")


def _rounded(values: list[float]) -> list[float]:
    return [round(v, 1) for v in values]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--bookings", type=int, default=500)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--verify-child", metavar="URL", help=argparse.SUPPRESS)  # verify_in_child
    parser.add_argument("--public-key", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.verify_child:
        _verify_child(args.verify_child, args.public_key, args.workers)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        key = Path(tmp) / "bench.key"
        create_key_file(key)
        signer = load_signer(key)
        print(f"database: {make_engine(url).dialect.name}")
        bookings_per_second(url, key, 50, chained=True)  # warm-up: imports, catalog, caches
        runs: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(3):  # alternated, so machine noise hits both alike
            for chained in (False, True):
                runs[chained].append(bookings_per_second(url, key, args.bookings, chained=chained))
        plain, with_chain = statistics.median(runs[False]), statistics.median(runs[True])
        print(f"bookings without the chain: {plain:,.1f}/s (median of {_rounded(runs[False])})")
        print(f"bookings with the chain:    {with_chain:,.1f}/s (median of {_rounded(runs[True])})")
        print(f"cost of the chain: {(plain - with_chain) / plain:+.1%}")

        engine = _fresh(url)
        fill_trail(engine, args.entries)
        dialect = engine.dialect.name
        with Session(engine) as session:
            timed(
                "verify_trail, every core (reading included)",
                lambda: verify_trail(session, public_key=signer.public_key, workers=os.cpu_count() or 1).entries,
            )
            timed(
                "verify_trail, one process (reading included)",
                lambda: verify_trail(session, public_key=signer.public_key, workers=1).entries,
            )
            rows = session.execute(select(*stored_columns(dialect)).order_by(text("seq"))).all()
        timed("hashing alone (rows in memory)", lambda: sum(1 for _ in with_computed_hashes(rows, dialect=dialect)))
        engine.dispose()


if __name__ == "__main__":
    main()
