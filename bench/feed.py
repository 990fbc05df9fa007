"""Feed latency (commit to receipt), throughput (deliveries per second, one and two workers), the
worker's peak memory, and how the cost grows with the number of events.

    .venv/bin/python bench/feed.py [--url URL] [--endpoints 10] [--rate 100] [--seconds 10]
                                   [--backlog 300] [--quick]

Builds the demo principals and agreements (no arrests) in a fresh database (a temporary SQLite
file unless --url names a database that may be emptied), and subscribes ``--endpoints`` webhook
endpoints of the FBI (whose agreement allows the feed) to a receiver in this process. Every
worker is a separate ``pars worker`` process, as in production, so its peak resident memory is
its own (sampled with psutil) and it shares no interpreter lock with the booking loop or the
receiver.

1. Latency: books arrests at ``--rate`` a second for ``--seconds``, each in its own transaction,
   and times from each commit to the arrival of the signed ``pars.arrest.booked`` at each
   endpoint (``--rate`` × ``--endpoints`` deliveries a second).
2. Throughput: with no worker running, books ``--backlog`` arrests, then starts one worker (then,
   on a new backlog, two) and times from the first delivery received to the last: fan-out, gate,
   audit, signing, HTTP and bookkeeping.
3. Growth: one worker at three backlog sizes (½×, 1×, 2× ``--backlog``): deliveries per second
   and the worker's peak memory at each.

``--profile`` instead drains a backlog of ``--backlog`` bookings with a worker in this process,
once with a sender that signs each attempt and reports it delivered without sending it (the
worker's round alone: fan-out, claim, gate, audit, signing, bookkeeping), once with the real
sender to the receiver, and prints CPU per delivery (the whole process, and its main thread)
and the round's profile (cProfile, main thread, sorted by own time).

``figures(url)`` returns all of it as ``bench.figures.Figure`` for ``make bench``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import psutil
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from pars.actors import Actor
from pars.audit.chain import checkpoint_policy
from pars.auth.models import User
from pars.auth.service import actor_for
from pars.cli import initialise
from pars.clock import SystemClock
from pars.db import make_engine, make_session_factory
from pars.demo.world import build_world
from pars.feed import service as feed_service
from pars.feed.schemas import SubscriptionIn
from pars.feed.webhooks import Outgoing, Result, WebhookSender
from pars.oversight.scan import scan as oversight_scan
from pars.records.intake import book_arrest
from pars.records.schemas import ArrestIn
from pars.settings import PrivateTargets, Settings
from pars.work import unit_of_work
from pars.worker import build as build_worker

sys.path.insert(0, str(Path(__file__).resolve().parent))  # as bench/suite.py: modules side by side
from figures import Figure
from notify_ceiling import drain, round_trip
from receiver import Arrivals
from seed import empty_schema

LATENCY_TARGET_MS = 50.0
DELIVERIES_TARGET = 2000.0
WORKER_MEMORY_TARGET_MB = 150.0
BOOKED = "pars.arrest.booked"
CEILING_NOTE = {
    "postgresql": "INSERT + pg_notify + COMMIT; a listener process POSTs to each endpoint (bench/notify_ceiling.py)",
    "sqlite": "INSERT + COMMIT; a process polling PRAGMA data_version every 5 ms POSTs to each endpoint",
}


def booking(n: int) -> ArrestIn:
    arrested = datetime.now(UTC) - timedelta(hours=1)
    return ArrestIn.model_validate(
        {
            "person": {"name": {"first": "Bench", "last": f"Person{n:07d}"}, "dob": "1990-05-04", "sex": "F"},
            "arrest": {"arrested_at": arrested.isoformat(), "district": "24", "incident_number": f"26{n:08d}",
                       "arresting_agency": "PPD", "arresting_officer": "4471"},
            "charges": [{"statute": "18 § 2701 §§ A1", "grade": "M2"}],
        }
    )  # fmt: skip


@dataclass
class Bench:
    url: str
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    clerk: Actor
    paths: list[str]
    arrivals: Arrivals
    env: dict[str, str]
    logs: Path
    booked: int = 0
    running: list[subprocess.Popen[bytes]] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)

    def book(self, count: int, rate: float | None = None) -> dict[str, float]:
        """Books ``count`` arrests, each in its own unit of work; arrest id → commit time."""
        committed: dict[str, float] = {}
        clock = SystemClock()
        started = time.monotonic()
        for n in range(count):
            policy = checkpoint_policy(self.settings)
            with unit_of_work(self.factory, clock, policy=policy, actor=self.clerk) as session:
                arrest_id = str(book_arrest(session, self.clerk, booking(self.booked)).id)
            committed[arrest_id] = time.monotonic()  # the receiver's clock (bench/receiver.py)
            self.booked += 1
            if rate is not None:
                pause = started + (n + 1) / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
        return committed

    def wait_for(self, ids: list[str], timeout: float) -> bool:
        want = len(ids) * len(self.paths)
        deadline = time.monotonic() + timeout
        while self.arrivals.received(ids, self.paths) < want:
            if time.monotonic() > deadline:
                return False
            for process in self.running:
                if process.poll() is not None:
                    log = self.logs / f"worker-{process.pid}.log"
                    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                    raise RuntimeError(f"pars worker ended with {process.returncode}:\n{tail}")
            time.sleep(0.01)
        return True

    @contextmanager
    def workers(self, count: int, *, poll: float = 1.0) -> Iterator[list[float]]:
        """``count`` ``pars worker`` processes; yields a list that holds, once they stop, the peak
        resident memory of each (MB)."""
        pars = str(Path(sys.executable).with_name("pars"))
        processes = []
        for _ in range(count):
            with (self.logs / "worker.log").open("wb") as log:
                process = subprocess.Popen(  # noqa: S603 - our own command
                    [pars, "worker", "--poll", str(poll)], env=self.env, stdout=log, stderr=subprocess.STDOUT
                )
            (self.logs / "worker.log").rename(self.logs / f"worker-{process.pid}.log")
            processes.append(process)
        self.running = processes
        peaks = [0.0] * count
        stop = threading.Event()

        def sample() -> None:
            handles = [psutil.Process(p.pid) for p in processes]
            while not stop.wait(0.05):
                for i, handle in enumerate(handles):
                    with suppress(psutil.Error):  # it has just ended
                        peaks[i] = max(peaks[i], handle.memory_info().rss / 2**20)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        result: list[float] = []
        try:
            yield result
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            stop.set()
            sampler.join()
            self.running = []
            result.extend(peaks)

    def close(self) -> None:
        self.arrivals.close()
        self.engine.dispose()


def setup(url: str, tmp: Path, endpoints: int) -> Bench:
    engine = make_engine(url)
    empty_schema(engine)
    engine.dispose()
    settings = Settings(database_url=url, audit_key_file=tmp / "audit.key")
    engine = make_engine(url)
    initialise(settings, engine)
    arrivals = Arrivals()
    port = arrivals.port
    keys = build_world(settings, engine, arrests=0, keys_file=tmp / "keys.json", seed=1,
                       console=Console(quiet=True), receiver_port=port)  # fmt: skip
    factory = make_session_factory(engine)
    with factory() as session:
        clerk = actor_for(session.get_one(User, uuid.UUID(keys["ppd.booking"]["user_id"])))
        agent = actor_for(session.get_one(User, uuid.UUID(keys["fbi.agent"]["user_id"])))
    # The demo subscribed /fbi; more endpoints of the same agreement make the ten subscribers.
    paths = ["/fbi", *(f"/fbi/{n}" for n in range(1, endpoints))]
    with unit_of_work(factory, SystemClock(), policy=checkpoint_policy(settings), actor=agent) as session:
        for path in paths[1:]:
            data = SubscriptionIn(url=f"http://127.0.0.1:{port}{path}", purpose="criminal_investigation")
            feed_service.subscribe(session, agent, data, targets=PrivateTargets.LOOPBACK)
    # The detectors ride along in every worker; they catch up with the demo's months of history
    # here, once, so that the runs measure the steady state (each scan reads only what is new).
    oversight_scan(make_session_factory(engine), SystemClock(), settings, policy=checkpoint_policy(settings))
    env = {**os.environ, "PARS_DATABASE_URL": url, "PARS_AUDIT_KEY_FILE": str(settings.audit_key_file),
           "PARS_WEBHOOK_PRIVATE_TARGETS": "loopback"}  # fmt: skip
    return Bench(url, settings, engine, factory, clerk, paths, arrivals, env, tmp)


def latency(bench: Bench, *, rate: float, seconds: float) -> dict[str, float]:
    with bench.workers(1, poll=1.0) as peaks:
        time.sleep(2.0)  # the worker's start-up (imports, first round) is no delivery latency
        committed = bench.book(int(rate * seconds), rate=rate)
        bench.wait_for(list(committed), 60)
    bench.arrivals.refresh()
    got = [
        (bench.arrivals.at[(p, i)] - at) * 1000
        for i, at in committed.items()
        for p in bench.paths
        if (p, i) in bench.arrivals.at
    ]
    got.sort()
    return {
        "deliveries": len(got),
        "expected": len(committed) * len(bench.paths),
        "median_ms": statistics.median(got),
        "p99_ms": got[max(0, int(len(got) * 0.99) - 1)],
        "max_ms": got[-1],
        "worker_peak_mb": peaks[0],
    }


def throughput(bench: Bench, *, events: int, workers: int) -> dict[str, float]:
    """Deliveries per second draining a backlog of ``events`` bookings to every endpoint."""
    ids = list(bench.book(events))
    with bench.workers(workers) as peaks:
        complete = bench.wait_for(ids, 600)
    times = sorted(bench.arrivals.times(ids, bench.paths))
    deliveries = len(times)
    elapsed = max(times[-1] - times[0], 1e-6) if times else float("inf")
    return {
        "deliveries": deliveries,
        "complete": complete,
        "seconds": elapsed,
        "per_second": (deliveries - 1) / elapsed if deliveries > 1 else 0.0,
        "worker_peak_mb": max(peaks),
    }


def figures(url: str, *, quick: bool = False) -> list[Figure]:
    """Sized for ``make bench``'s budget: two latency runs of 6 s (1,200 bookings), one worker
    draining three backlogs (150, 300 and 600 bookings: the growth figures, and their median is
    the one-worker rate), two workers draining two backlogs of 600."""
    endpoints = 10
    rate, seconds = (20.0, 2.0) if quick else (100.0, 6.0)
    backlog = 20 if quick else 300
    with tempfile.TemporaryDirectory() as tmp:
        bench = setup(url, Path(tmp), endpoints)
        database = bench.engine.dialect.name
        try:
            lat, bare = [], []
            for _ in range(1 if quick else 2):  # the ceiling and the feed, alternated
                bare.append(round_trip(url, bench.arrivals, bench.paths, rate=rate, seconds=seconds))
                lat.append(latency(bench, rate=rate, seconds=seconds))
            sizes = [backlog // 2, backlog, backlog * 2]
            one = [throughput(bench, events=size, workers=1) for size in sizes]
            two = [throughput(bench, events=backlog * 2, workers=2) for _ in range(1 if quick else 2)]
            bare_drain = [drain(url, bench.arrivals, bench.paths, events=backlog) for _ in range(1 if quick else 2)]
        finally:
            bench.close()

    def med(items: list[dict[str, float]], key: str) -> float:
        return float(statistics.median(item[key] for item in items))

    load = f"{rate:g} events/s to {endpoints} endpoints"
    drained = ", ".join(f"{size * endpoints:,}" for size in sizes)
    figures = [
        Figure("feed", f"bare commit→receipt (ceiling) median, {load}", round(med(bare, "median_ms"), 1), "ms",
               database, runs=len(bare), better="lower", note=CEILING_NOTE[database]),
        Figure("feed", f"commit→receipt median, {load}", round(med(lat, "median_ms"), 1), "ms", database,
               runs=len(lat), better="lower", ceiling=round(med(bare, "median_ms"), 1),
               ceiling_name="bare commit→receipt, same run"),
        Figure("feed", f"bare commit→receipt (ceiling) p99, {load}", round(med(bare, "p99_ms"), 1), "ms",
               database, runs=len(bare), better="lower", note=CEILING_NOTE[database],
               extra={"runs": bare}),
        Figure("feed", f"commit→receipt p99, {load}", round(med(lat, "p99_ms"), 1), "ms", database,
               target=LATENCY_TARGET_MS, better="lower", runs=len(lat), ceiling=round(med(bare, "p99_ms"), 1),
               ceiling_name="bare commit→receipt, same run", note="receiver in its own process",
               extra={"max_ms": round(max(r["max_ms"] for r in lat), 1), "runs": lat}),
        Figure("feed", "bare deliveries/s (ceiling): read the rows, POST each to every endpoint, one process",
               round(med(bare_drain, "per_second")), "/s", database, runs=len(bare_drain),
               note=f"backlog of {backlog * endpoints:,} deliveries (bench/notify_ceiling.py drain)"),
        Figure("feed", "deliveries/s, one worker", round(med(one, "per_second")), "/s", database,
               target=DELIVERIES_TARGET, runs=len(one), note=f"backlogs of {drained} deliveries",
               ceiling=round(med(bare_drain, "per_second")), ceiling_name="bare deliveries/s, same run"),
        Figure("feed", "deliveries/s per worker, two workers", round(med(two, "per_second") / 2), "/s", database,
               target=DELIVERIES_TARGET, runs=len(two),
               note=f"backlog of {backlog * 2 * endpoints:,} deliveries; workers, receiver and booking share the cores",
               extra={"total_per_s": round(med(two, "per_second"))}),
        Figure("memory", "peak RSS of one worker during the feed run", round(max(
            [r["worker_peak_mb"] for r in lat] + [r["worker_peak_mb"] for r in one])), "MB", database,
               target=WORKER_MEMORY_TARGET_MB, better="lower", runs=len(lat) + len(one),
               note="the maximum over the latency and one-worker runs (a `pars worker` process)"),
    ]  # fmt: skip
    for size, result in zip(sizes, one, strict=True):
        figures.append(
            Figure("growth", f"feed deliveries/s, backlog of {size * endpoints:,} deliveries",
                   round(result["per_second"]), "/s", database,
                   extra={"worker_peak_mb": round(result["worker_peak_mb"]), "seconds": round(result["seconds"], 2)})
        )  # fmt: skip
    return figures


class _SignOnly:
    """A sender that signs each attempt (the real ``_headers``) and reports it delivered at once."""

    def __init__(self) -> None:
        self.real = WebhookSender(deadline=10.0)

    def submit(self, outgoing: Outgoing, done: Callable[[Result], None]) -> None:
        self.real._headers(outgoing, datetime.now(UTC))
        done(Result(outgoing, 204, 0, None))

    def close(self) -> None:
        self.real.close()


def profile(bench: Bench, *, events: int) -> None:
    """The worker's CPU per delivery, in this process (see the module's docstring)."""
    for real in (False, True):
        bench.book(events)
        worker = build_worker(bench.settings, bench.engine, SystemClock(), targets=PrivateTargets.LOOPBACK)
        worker.periodic = []
        if not real:
            worker.sender.close()
            worker.sender = cast(WebhookSender, _SignOnly())
        profiler = cProfile.Profile()
        wall, cpu, main_cpu = time.perf_counter(), time.process_time(), time.thread_time()
        if not real:
            profiler.enable()
        worker.drain(rounds=100_000)
        profiler.disable()
        wall, cpu, main_cpu = time.perf_counter() - wall, time.process_time() - cpu, time.thread_time() - main_cpu
        worker.sender.close()
        deliveries = events * len(bench.paths)
        what = "real sender" if real else "sign only (cProfile on)"
        print(f"{what}: {deliveries} deliveries, {deliveries / wall:,.0f}/s wall; CPU {cpu / deliveries * 1e6:.0f} us "
              f"per delivery, main thread {main_cpu / deliveries * 1e6:.0f} us")  # fmt: skip
        if not real:
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=None, help="a database that may be emptied (default: a temporary SQLite file)")
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--rate", type=float, default=100.0, help="bookings per second in the latency run")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--backlog", type=int, default=300, help="bookings drained in the throughput runs")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="figures() at smoke size, as a table")
    parser.add_argument("--profile", action="store_true", help="the worker's round in this process, profiled")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/bench.db"
        if args.quick:
            for figure in figures(url, quick=True):
                print(json.dumps(figure.as_json()))
            return
        bench = setup(url, Path(tmp), args.endpoints)
        if args.profile:
            try:
                profile(bench, events=args.backlog)
            finally:
                bench.close()
            return
        try:
            lat = latency(bench, rate=args.rate, seconds=args.seconds)
            drained = throughput(bench, events=args.backlog, workers=args.workers)
        finally:
            bench.close()
        print(json.dumps({"database": bench.engine.dialect.name, "endpoints": args.endpoints,
                          "latency": {k: round(v, 1) for k, v in lat.items()},
                          "throughput": {k: round(v, 1) for k, v in drained.items()}}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
