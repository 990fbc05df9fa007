"""Feed latency (commit to receipt) and throughput (deliveries per second, one worker).

    .venv/bin/python bench/feed.py [--url sqlite:///...] [--events 1000] [--rate 50] [--backlog 2000] [--feed-only]

Builds the demo principals and agreements (no arrests) in a fresh database (a temporary SQLite
file unless --url names an empty database), whose FBI webhook points at a receiver in this
process, and runs one feed worker as `pars serve` does: a thread of the process that books.

1. Latency: books `--events` arrests at `--rate` a second, each in its own transaction, and
   times from the commit to the arrival of FBI's signed `pars.arrest.booked` at the receiver.
2. Throughput: with the worker stopped, books `--backlog` arrests, then starts the worker and
   times until the receiver has them all: fan-out, gate, audit, signing, HTTP and bookkeeping.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console

from pars.auth.models import User
from pars.auth.service import actor_for
from pars.cli import initialise
from pars.clock import SystemClock
from pars.db import make_engine
from pars.demo.world import build_world
from pars.feed.signals import WAKE
from pars.feed.worker import build, stop_worker
from pars.records.intake import book_arrest
from pars.records.schemas import ArrestIn
from pars.settings import Settings
from pars.work import unit_of_work


class Arrivals:
    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        arrivals = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                arrived = time.time()
                event = json.loads(body)
                if self.path == "/fbi" and event["type"] == "pars.arrest.booked":
                    with arrivals.lock:
                        arrivals.at.setdefault(event["subject"], arrived)
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def count(self, ids: list[str]) -> int:
        with self.lock:
            return sum(1 for i in ids if i in self.at)


def booking(n: int) -> ArrestIn:
    arrested = datetime.now(UTC) - timedelta(hours=1)
    return ArrestIn.model_validate(
        {
            "person": {"name": {"first": "Bench", "last": f"Person{n:06d}"}, "dob": "1990-05-04", "sex": "F"},
            "arrest": {"arrested_at": arrested.isoformat(), "district": "24", "incident_number": f"26{n:08d}",
                       "arresting_agency": "PPD", "arresting_officer": "4471"},
            "charges": [{"statute": "18 § 2701 §§ A1", "grade": "M2"}],
        }
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=None)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="bookings per second in the latency run")
    parser.add_argument("--backlog", type=int, default=2000)
    parser.add_argument("--feed-only", action="store_true", help="without the misuse detectors that ride along")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/bench.db"
        settings = Settings(database_url=url, audit_key_file=Path(tmp) / "audit.key")
        engine = make_engine(url)
        initialise(settings, engine)
        arrivals = Arrivals()
        server = ThreadingHTTPServer(("127.0.0.1", 0), arrivals.handler())
        port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        keys = build_world(settings, engine, arrests=0, keys_file=Path(tmp) / "keys.json", seed=1,
                           console=Console(quiet=True), receiver_port=port)  # fmt: skip
        clock = SystemClock()
        worker = build(settings, engine, clock, poll=1.0)
        if args.feed_only:
            worker.periodic = []
        factory = worker.factory
        with factory() as session:
            actor = actor_for(session.get_one(User, uuid.UUID(keys["ppd.booking"]["user_id"])))

        def book(n: int) -> tuple[str, float]:
            with unit_of_work(factory, clock, actor) as session:
                arrest_id = str(book_arrest(session, actor, booking(n)).id)
            return arrest_id, time.time()

        def run_worker() -> tuple[threading.Thread, threading.Event]:
            stop = threading.Event()
            thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"engine": engine}, daemon=True)
            thread.start()
            return thread, stop

        # 1. Latency, one booking at a time at a steady rate.
        thread, stop = run_worker()
        committed: dict[str, float] = {}
        started = time.monotonic()
        for n in range(args.events):
            arrest_id, at = book(n)
            committed[arrest_id] = at
            pause = started + (n + 1) / args.rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        deadline = time.monotonic() + 60
        while arrivals.count(list(committed)) < len(committed) and time.monotonic() < deadline:
            time.sleep(0.05)
        latencies = sorted((arrivals.at[i] - committed[i]) * 1000 for i in committed if i in arrivals.at)
        stop_worker(stop, WAKE)
        thread.join(30)

        # 2. Throughput: a backlog, then one worker drains it.
        worker = build(settings, engine, clock, poll=1.0)
        if args.feed_only:
            worker.periodic = []
        backlog = [book(args.events + n)[0] for n in range(args.backlog)]
        thread, stop = run_worker()
        began = time.monotonic()
        while arrivals.count(backlog) < len(backlog) and time.monotonic() - began < 300:
            time.sleep(0.01)
        elapsed = time.monotonic() - began
        stop_worker(stop, WAKE)
        thread.join(30)
        server.shutdown()
        print(json.dumps({
            "database": engine.dialect.name,
            "latency": {"events": len(latencies), "of": args.events, "rate_per_s": args.rate,
                        "median_ms": round(statistics.median(latencies), 1),
                        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1),
                        "max_ms": round(latencies[-1], 1)},
            "throughput": {"deliveries": arrivals.count(backlog), "seconds": round(elapsed, 2),
                           "deliveries_per_s": round(arrivals.count(backlog) / elapsed, 1)},
        }, indent=2))  # fmt: skip
        engine.dispose()


if __name__ == "__main__":
    main()
