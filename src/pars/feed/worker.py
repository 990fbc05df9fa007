"""The background worker: `pars worker`, and a thread of `pars serve` unless `--no-worker`.

A thin loop around ``fan_out``, ``claim`` and ``prepare`` (one short unit of work) and ``record``
(another); webhooks are sent between them, outside any transaction. It sleeps until woken: by a
commit in this process (``signals.WAKE``), by PostgreSQL ``NOTIFY`` from any process, by a
NATS notice from another node (``pars.feed.bus``, with ``PARS_NATS_URL``), or by its poll
interval, which also brings retries that have come due. On SIGTERM it finishes the batch in
hand, records it, and stops.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import psycopg
import structlog
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from pars.audit.chain import session_info
from pars.audit.commands import checkpoint_policy
from pars.clock import Clock, SystemClock
from pars.db import make_engine, make_session_factory
from pars.feed import delivery, fanout
from pars.feed.bus import connected_to
from pars.feed.delivery import RetryPolicy
from pars.feed.signals import CHANNEL, WAKE, Wakeup
from pars.feed.webhooks import Result, WebhookSender
from pars.oversight.scan import scan as oversight_scan
from pars.settings import Settings, parse_duration
from pars.work import unit_of_work

log = structlog.get_logger()

MAX_TIMEOUT = 10.0


@dataclass(frozen=True)
class WorkerOptions:
    """``lease``: how long a claimed job is this worker's; the HTTP timeout is a third of it (at
    most 10 s), so a live worker always settles a job before its lease runs out."""

    schedule: tuple[timedelta, ...]
    zone: ZoneInfo
    lease: timedelta = timedelta(seconds=60)
    batch: int = 500
    poll: float = 1.0
    concurrency: int = 16
    rounds: int = 20  # batches per deliver() before the periodic jobs get their turn

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> WorkerOptions:
        schedule = tuple(parse_duration(item) for item in settings.webhook_retry_schedule)
        return cls(schedule=schedule, zone=settings.zone, **overrides)  # type: ignore[arg-type]

    @property
    def timeout(self) -> float:
        return min(MAX_TIMEOUT, self.lease.total_seconds() / 3)


@dataclass
class Periodic:
    """A job the worker also runs, every ``every`` seconds between its rounds (misuse
    detection). A failure is logged and tried again next time: it never stops the feed."""

    name: str
    every: float
    run: Callable[[], object]
    due: float = 0.0  # time.monotonic() of the next run

    def maybe_run(self) -> None:
        moment = time.monotonic()
        if moment < self.due:
            return
        self.due = moment + self.every
        try:
            self.run()
        except Exception:  # logged, retried on schedule; the feed goes on
            log.exception("periodic job failed", job=self.name)


class FeedWorker:
    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        options: WorkerOptions,
        *,
        sender: WebhookSender | None = None,
        wake: Wakeup = WAKE,
        periodic: Sequence[Periodic] = (),
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.options = options
        self.sender = sender or WebhookSender(timeout=options.timeout, concurrency=options.concurrency)
        self.wake = wake
        self.periodic = list(periodic)

    def fan_out(self) -> int:
        with unit_of_work(self.factory, self.clock) as session:
            return fanout.fan_out(session)

    def deliver(self, *, fan_out: bool = False) -> int:
        """Batches until nothing more is due (at most ``options.rounds``), pipelined: while one
        batch's requests are in flight, the next is claimed and prepared (after a fan-out, when
        asked), and the batch before is recorded, in one short transaction. Every batch taken is
        sent and recorded before this returns. Returns how many outbox events and jobs it took.

        Order holds: a job in flight is still pending under its lease, so the claim skips the
        jobs behind it until its result is recorded."""
        policy = RetryPolicy(self.options.schedule)
        took = 0
        in_flight: Callable[[], list[Result]] | None = None
        done: list[Result] = []
        for _ in range(self.options.rounds):
            with unit_of_work(self.factory, self.clock) as session:
                delivery.record(session, done, policy)
                fanned = fanout.fan_out(session) if fan_out else 0
                jobs = delivery.claim(session, lease=self.options.lease, limit=self.options.batch)
                outgoing = delivery.prepare(session, jobs, zone=self.options.zone) if jobs else []
            took += fanned + len(jobs)
            done = in_flight() if in_flight is not None else []
            in_flight = self.sender.start(outgoing) if outgoing else None
            if not (fanned or jobs or in_flight or done):
                break
        if in_flight is not None:
            done += in_flight()
        if done:
            with unit_of_work(self.factory, self.clock) as session:
                delivery.record(session, done, policy)
        return took

    def step(self) -> bool:
        """One round of delivery; True when there was work (so there may be more). The periodic
        jobs run beside it, on a thread of their own (``run``), so a long scan never holds a
        delivery up."""
        return self.deliver(fan_out=True) > 0

    def run_periodic(self, stop: threading.Event) -> None:
        while not stop.is_set():
            for job in self.periodic:
                job.maybe_run()
            stop.wait(min((job.every for job in self.periodic), default=1.0) / 4)

    def drain(self, rounds: int = 1000) -> None:
        """Works until nothing is due now (tests, the benchmark)."""
        for _ in range(rounds):
            if not self.step():
                return

    def run(self, stop: threading.Event, *, engine: Engine | None = None) -> None:
        listener: threading.Thread | None = None
        if engine is not None and engine.dialect.name == "postgresql":
            listener = Listener(engine, self.wake, stop)
            listener.start()
        elif engine is not None and engine.dialect.name == "sqlite":
            listener = Checkpointer(engine, stop, wake=self.wake)
            listener.start()
        periodic: threading.Thread | None = None
        if self.periodic:
            periodic = threading.Thread(target=self.run_periodic, args=(stop,), name="pars-periodic", daemon=True)
            periodic.start()
        log.info("feed worker started")
        try:
            while not stop.is_set():
                seen = self.wake.count
                try:
                    busy = self.step()
                except Exception:  # a database hiccup must not end the worker: it logs and tries again
                    log.exception("feed worker round failed")
                    busy = False
                    stop.wait(self.options.poll)
                if not busy and not stop.is_set():
                    self.wake.wait(seen, self.options.poll)
        finally:
            self.sender.close()
            if periodic is not None:
                periodic.join(timeout=30)
            if listener is not None:
                listener.join(timeout=5)
            log.info("feed worker stopped")


class Listener(threading.Thread):
    """Forwards PostgreSQL notifications on the feed channel to ``wake``; reconnects after
    errors. It only speeds things up: the worker polls anyway."""

    def __init__(self, engine: Engine, wake: Wakeup, stop: threading.Event) -> None:
        super().__init__(name="pars-feed-listener", daemon=True)
        self._dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._wake = wake
        self._stop_event = stop

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    while not self._stop_event.is_set():
                        for _ in connection.notifies(timeout=0.5):
                            self._wake.notify()
            except psycopg.Error:
                log.warning("feed listener lost its connection; reconnecting")
                self._stop_event.wait(1.0)


class Checkpointer(threading.Thread):
    """SQLite: copies the write-ahead log into the database every second, on a connection of its
    own, so the log stays short and no commit of the worker (or of a request) has to run the
    automatic checkpoint itself; that one waits for the disk and stalled deliveries for seconds.
    PASSIVE never blocks readers or writers.

    Given ``wake``, it is also SQLite's NOTIFY: every ``look`` seconds it reads ``PRAGMA
    data_version``, which changes when another connection (another process: ``pars serve`` for a
    separate ``pars worker``) commits, and wakes the worker. A read of a counter in shared
    memory, it takes no lock, so looking every few milliseconds costs nothing."""

    def __init__(
        self, engine: Engine, stop: threading.Event, every: float = 1.0, *, wake: Wakeup | None = None,
        look: float = 0.005,
    ) -> None:  # fmt: skip
        super().__init__(name="pars-wal-checkpoint", daemon=True)
        self._engine, self._stop_event, self._every = engine, stop, every
        self._wake, self._look = wake, look

    def run(self) -> None:
        watcher = self._watch() if self._wake is not None else None
        due = time.monotonic() + self._every
        while not self._stop_event.wait(self._look if watcher is not None else self._every):
            if watcher is not None:
                next(watcher)
                if time.monotonic() < due:
                    continue
                due = time.monotonic() + self._every
            try:
                connection = self._engine.raw_connection()
                try:
                    connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    connection.close()
            except Exception:  # a busy or closed database: the next round tries again
                log.warning("WAL checkpoint failed", exc_info=True)

    def _watch(self) -> Iterator[None]:
        """Wakes the worker whenever the database changed since the last look."""
        database = self._engine.url.database
        if not database or database == ":memory:":
            while True:
                yield
        with closing(sqlite3.connect(database)) as connection:
            seen = None
            while True:
                try:
                    version = connection.execute("PRAGMA data_version").fetchone()[0]
                except sqlite3.Error:
                    version = seen
                if version != seen and seen is not None and self._wake is not None:
                    self._wake.notify()
                seen = version
                yield


def stop_worker(stop: threading.Event, wake: Wakeup = WAKE) -> None:
    """What SIGTERM does: the loop ends after the batch in hand."""
    stop.set()
    wake.notify()


def build(settings: Settings, engine: Engine, clock: Clock, **options: object) -> FeedWorker:
    """A worker whose commits sign audit checkpoints when due, like every other writer."""
    factory = make_session_factory(engine, info=session_info(checkpoint_policy(settings)))
    # Misuse detection rides along, so alerts follow the activity within the scan interval.
    every = settings.oversight_scan_seconds
    detectors = Periodic("oversight.scan", every, lambda: oversight_scan(factory, clock, settings))
    return FeedWorker(factory, clock, WorkerOptions.from_settings(settings, **options), periodic=[detectors])


def run_in_foreground(settings: Settings, *, lease: timedelta, poll: float) -> None:
    """`pars worker`: until SIGTERM or SIGINT."""
    engine = make_engine(settings.database_url)
    worker = build(settings, engine, SystemClock(), lease=lease, poll=poll)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_worker(stop, worker.wake))
    try:
        # With PARS_NATS_URL, other nodes' commits wake this worker over NATS too.
        with connected_to(settings, wake_worker=True):
            worker.run(stop, engine=engine)
    finally:
        engine.dispose()


@dataclass
class Background:
    """The worker as a thread of `pars serve`."""

    thread: threading.Thread
    stop: threading.Event

    def close(self, timeout: float = 30.0) -> None:
        stop_worker(self.stop)
        self.thread.join(timeout)


def attach(app: FastAPI, settings: Settings) -> None:
    """Runs the worker as a thread of the server for as long as the server runs: started with
    the application, stopped (the batch in hand finished and recorded) when the server shuts
    down, before the server process exits on SIGTERM."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state:
            background = start_in_background(settings)
            try:
                yield state
            finally:
                await anyio.to_thread.run_sync(background.close)

    app.router.lifespan_context = lifespan


def start_in_background(settings: Settings) -> Background:
    engine = make_engine(settings.database_url)
    worker = build(settings, engine, SystemClock())
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"engine": engine}, name="pars-feed-worker")
    thread.daemon = True
    thread.start()
    return Background(thread, stop)
