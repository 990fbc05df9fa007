"""The ceiling of the feed's commit → receipt latency: the least work that carries a commit to
the endpoints, on the same database, receiver and machine.

    (called by bench/feed.py; ``python bench/notify_ceiling.py listen|drain URL PORT PATH...`` is its
    child process)

The booking side inserts one row into a bench-only table and commits (on PostgreSQL with
``pg_notify`` in the same transaction, as PARS's outbox does), at the feed run's rate. A listener
in its own process (as a ``pars worker`` is) notices each commit and POSTs a minimal event to
every endpoint path of the receiver (bench/receiver.py), one keep-alive connection, one after
the other:

- PostgreSQL: ``LISTEN`` and the notification's payload (the row's id): a bare NOTIFY round trip;
- SQLite has no NOTIFY; the equivalent is what the worker does there (`pars.feed.worker`'s
  ``Checkpointer``): read ``PRAGMA data_version`` every 5 ms, and on a change read the new rows.

No gate, no outbox, no signing, no bookkeeping: what remains is the database's commit, the wake-up,
one process switch and the HTTP requests. `drain` is the same for a backlog: rows committed
beforehand, read by a process that POSTs each to every endpoint (the ceiling of deliveries per
second).
"""

from __future__ import annotations

import http.client
import json
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Column, MetaData, String, Table, insert, select, text
from sqlalchemy.engine import make_url

from pars.db import make_engine

CHANNEL = "bench_feed"
LOOK = 0.005  # seconds, as the worker's Checkpointer looks on SQLite
BOOKED = "pars.arrest.booked"
EVENTS = Table("bench_events", MetaData(), Column("id", String(36), primary_key=True))


def _poster(port: int, paths: list[str]) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port)

    def post(subject: str) -> None:
        body = json.dumps({"type": BOOKED, "subject": subject})
        for path in paths:
            connection.request("POST", path, body, {"content-type": "application/json"})
            connection.getresponse().read()

    return post


def listen(url: str, port: int, paths: list[str]) -> None:
    post = _poster(port, paths)
    if url.startswith("postgresql"):
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            print("ready", flush=True)
            for notification in connection.notifies():
                post(notification.payload)
        return
    connection = sqlite3.connect(make_url(url).database or "", isolation_level=None)
    last_version, last_row = None, 0
    print("ready", flush=True)
    while True:
        version = connection.execute("PRAGMA data_version").fetchone()[0]
        if version != last_version:
            last_version = version
            for rowid, subject in connection.execute(
                "SELECT rowid, id FROM bench_events WHERE rowid > ? ORDER BY rowid", (last_row,)
            ).fetchall():
                last_row = rowid
                post(subject)
        time.sleep(LOOK)


def round_trip(url: str, arrivals: Any, paths: list[str], *, rate: float, seconds: float) -> dict[str, float]:
    """Commits at `rate` a second for `seconds`, each carried to every path; commit → receipt
    latencies (ms) as bench/feed.py's `latency` reports them."""
    engine = make_engine(url)  # PARS's own engine settings (SQLite: BEGIN IMMEDIATE, WAL)
    EVENTS.create(engine, checkfirst=True)
    listener = subprocess.Popen(  # noqa: S603 - this very script
        [sys.executable, str(Path(__file__).resolve()), "listen", url, str(arrivals.port), *paths],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert listener.stdout is not None
        if listener.stdout.readline().strip() != "ready":
            raise RuntimeError("the NOTIFY listener did not start")
        notify = engine.dialect.name == "postgresql"
        committed: dict[str, float] = {}
        started = time.monotonic()
        for n in range(int(rate * seconds)):
            subject = str(uuid.uuid4())
            with engine.begin() as conn:
                conn.execute(insert(EVENTS).values(id=subject))
                if notify:
                    conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": subject})
            committed[subject] = time.monotonic()
            pause = started + (n + 1) / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        want = len(committed) * len(paths)
        deadline = time.monotonic() + 30
        while arrivals.received(list(committed), paths) < want and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        listener.terminate()
        listener.wait(10)
        engine.dispose()
    got = sorted(
        (arrivals.at[(p, i)] - at) * 1000 for i, at in committed.items() for p in paths if (p, i) in arrivals.at
    )
    return {
        "deliveries": len(got),
        "expected": len(committed) * len(paths),
        "median_ms": statistics.median(got),
        "p99_ms": got[max(0, int(len(got) * 0.99) - 1)],
        "max_ms": got[-1],
    }


def send_all(url: str, port: int, paths: list[str]) -> None:
    """The drain's child: every row of the table, POSTed to every path, then exit."""
    post = _poster(port, paths)
    engine = make_engine(url)
    with engine.connect() as conn:
        subjects = list(conn.execute(select(EVENTS.c.id)).scalars())
    engine.dispose()
    for subject in subjects:
        post(subject)


def drain(url: str, arrivals: Any, paths: list[str], *, events: int) -> dict[str, float]:
    """The ceiling of deliveries per second: `events` rows committed beforehand, then a process
    reads them and POSTs each to every path, one after the other on one keep-alive connection;
    deliveries per second from the first receipt to the last, as bench/feed.py's `throughput`."""
    engine = make_engine(url)
    EVENTS.create(engine, checkfirst=True)
    with engine.begin() as conn:
        conn.execute(EVENTS.delete())
        subjects = [str(uuid.uuid4()) for _ in range(events)]
        conn.execute(insert(EVENTS), [{"id": s} for s in subjects])
    engine.dispose()
    subprocess.run(  # noqa: S603 - this very script
        [sys.executable, str(Path(__file__).resolve()), "drain", url, str(arrivals.port), *paths], check=True
    )
    times = sorted(arrivals.times(subjects, paths))
    elapsed = max(times[-1] - times[0], 1e-6) if times else float("inf")
    return {"deliveries": len(times), "seconds": elapsed, "per_second": (len(times) - 1) / elapsed}


if __name__ == "__main__":
    (listen if sys.argv[1] == "listen" else send_all)(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
