"""The ceiling of the feed's commit → receipt latency: the least work that carries a commit to
the endpoints, on the same database, receiver and machine.

    (called by bench/feed.py; ``python bench/notify_ceiling.py URL PORT PATH...`` is its listener)

The booking side inserts one row into a bench-only table and commits (on PostgreSQL with
``pg_notify`` in the same transaction, as PARS's outbox does), at the feed run's rate. A listener
in its own process (as a ``pars worker`` is) notices each commit and POSTs a minimal event to
every endpoint path of the receiver (bench/receiver.py), one keep-alive connection, one after
the other:

- PostgreSQL: ``LISTEN`` and the notification's payload (the row's id): a bare NOTIFY round trip;
- SQLite has no NOTIFY; the equivalent is what the worker does there (`pars.feed.worker`'s
  ``Checkpointer``): read ``PRAGMA data_version`` every 5 ms, and on a change read the new rows.

No gate, no outbox, no signing, no bookkeeping: what remains is the database's commit, the wake-up,
one process switch and the HTTP requests.
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
from sqlalchemy import Column, MetaData, String, Table, insert, text
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
        [sys.executable, str(Path(__file__).resolve()), url, str(arrivals.port), *paths],
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


if __name__ == "__main__":
    listen(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
