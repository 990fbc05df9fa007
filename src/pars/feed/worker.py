"""The background worker: `pars worker`, and a thread of `pars serve` unless `--no-worker`.

A thin loop around ``fan_out``, ``claim`` and ``prepare`` (one short unit of work) and ``record``
(another); webhooks are sent between them, outside any transaction. It sleeps until woken: by a
commit in this process (``signals.WAKE``), by PostgreSQL ``NOTIFY`` from any process, by a
NATS notice from another node (``pars.feed.bus``, with ``PARS_NATS_URL``), or by its poll
interval, which also brings retries that have come due, and by each attempt's result coming
back. On SIGTERM it stops claiming, waits for the attempts in flight (each ends by its deadline),
records them, and stops.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import psycopg
import structlog
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from pars.audit.chain import CheckpointPolicy
from pars.clock import Clock
from pars.feed import delivery, fanout
from pars.feed.delivery import RetryPolicy
from pars.feed.webhooks import Outgoing, Result, WebhookSender
from pars.outbox.signals import CHANNEL, WAKE, Wakeup
from pars.settings import PrivateTargets, Settings, lease_floor, lease_margin, parse_duration
from pars.work import unit_of_work

log = structlog.get_logger()

# A round waits this long at most for more results to record together, unless this many (or
# half of those in flight) are back.
GATHER = 0.05
GATHER_ENOUGH = 32


@dataclass(frozen=True)
class WorkerOptions:
    """``deadline``: the total time one attempt may take (connect, send, the whole answer).
    ``lease``: how long a claimed job is this worker's; it must outlive any attempt by a margin
    (``lease_floor``), and an attempt that could no longer end before the lease runs out is not
    started, so no second worker ever sends a job while this one is still sending it.
    ``batch``: attempts in hand at most; ``per_endpoint``: of those, at most this many for one
    endpoint, so a slow endpoint holds only its own deliveries."""

    schedule: tuple[timedelta, ...]
    zone: ZoneInfo
    lease: timedelta = timedelta(seconds=60)
    deadline: float = 10.0
    targets: PrivateTargets = PrivateTargets.DENY
    batch: int = 256
    per_endpoint: int = 16
    poll: float = 1.0

    def __post_init__(self) -> None:
        floor = lease_floor(self.deadline)
        if self.lease.total_seconds() < floor:
            raise ValueError(f"the lease must be at least {floor:g}s with a delivery deadline of {self.deadline:g}s")

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> WorkerOptions:
        schedule = tuple(parse_duration(item) for item in settings.webhook_retry_schedule)
        values: dict[str, object] = {
            "schedule": schedule,
            "zone": settings.zone,
            "lease": timedelta(seconds=settings.webhook_lease_seconds),
            "deadline": settings.webhook_deadline_seconds,
            "targets": settings.webhook_private_targets,
            "per_endpoint": settings.webhook_endpoint_concurrency,
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def start_window(self) -> float:
        """Seconds after the claim within which an attempt may still start: it then ends (by its
        deadline) at least half the margin before the lease runs out, time to record it."""
        return self.lease.total_seconds() - self.deadline - lease_margin(self.deadline) / 2


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
    """Claims, sends and records without ever waiting for a whole batch: each attempt is handed
    to the sender as soon as it is prepared, its result comes back on its own (waking the loop),
    and the next round records whatever has come back, fans out, and claims again as far as
    there is room (``batch`` in hand, ``per_endpoint`` per endpoint). A hanging endpoint holds
    ``per_endpoint`` attempts for at most the deadline; every other endpoint goes on."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        options: WorkerOptions,
        *,
        checkpoints: CheckpointPolicy,
        sender: WebhookSender | None = None,
        wake: Wakeup = WAKE,
        periodic: Sequence[Periodic] = (),
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.checkpoints = checkpoints
        self.options = options
        self.sender = sender or WebhookSender(
            deadline=options.deadline, targets=options.targets, threads=options.batch, per_host=options.per_endpoint
        )
        self.wake = wake
        self.periodic = list(periodic)
        self.policy = RetryPolicy(options.schedule)
        # This worker's own signal: results coming back, and (while running) every ``wake``.
        self.signal = Wakeup()
        self._in_flight: dict[int, Outgoing] = {}  # job id → the attempt out (worker thread only)
        self._results: list[Result] = []  # back from the sender, not yet recorded
        self._lock = threading.Lock()
        self._news = False  # a wake-up from outside since the last round
        self._wake_at = 1  # results back that wake the loop

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def fan_out(self) -> int:
        with unit_of_work(self.factory, self.clock, policy=self.checkpoints) as session:
            return fanout.fan_out(session)

    def _finished(self, result: Result) -> None:
        """The sender's callback (its thread): keep the result, and wake the loop once as many
        are back as it waits for (``gather`` raises that number while results pour in: a wake-up
        per result would hand the interpreter lock back and forth with every one)."""
        with self._lock:
            self._results.append(result)
            back = len(self._results)
        if back >= self._wake_at:
            self.signal.notify()

    def step(self, *, fan_out: bool = True, claim: bool = True) -> bool:
        """One short unit of work: records the results that came back, fans out, claims what
        there is room for and prepares it; then hands the attempts to the sender. True when it
        did anything (so there may be more).

        Results stay in hand until the transaction that records them commits: a round that
        fails (a database hiccup) records them next time instead of losing them, so the jobs
        are not sent again when their leases run out."""
        self._news = False
        with self._lock:
            done, self._results = self._results, []
        busy: dict[uuid.UUID, int] = {}
        finished = {result.outgoing.job_id for result in done}
        for job_id, out in self._in_flight.items():
            if job_id not in finished:
                busy[out.subscription_id] = busy.get(out.subscription_id, 0) + 1
        room = self.options.batch - (len(self._in_flight) - len(finished))
        claimed_at = time.monotonic()
        try:
            with unit_of_work(self.factory, self.clock, policy=self.checkpoints) as session:
                delivery.record(session, done, self.policy)
                fanned = fanout.fan_out(session) if fan_out else 0
                jobs: list[delivery.Claimed] = []
                if claim and room > 0:
                    jobs = delivery.claim(
                        session, lease=self.options.lease, limit=room, per_endpoint=self.options.per_endpoint,
                        busy=busy,
                    )  # fmt: skip
                start_by = claimed_at + self.options.start_window
                outgoing = delivery.prepare(session, jobs, zone=self.options.zone, start_by=start_by) if jobs else []
        except BaseException:
            with self._lock:
                self._results[:0] = done
            raise
        for job_id in finished:
            self._in_flight.pop(job_id, None)
        for item in outgoing:
            self._in_flight[item.job_id] = item
            self.sender.submit(item, self._finished)
        return bool(done or fanned or jobs)

    def gather(self) -> None:
        """Lets results gather for a moment (``GATHER`` seconds at most) before a round records
        them, unless half of the attempts in flight are back, or news came (new events, a
        replay: fan-out and claims are not held up): one transaction per result would spend
        the worker on commits while results come back one by one."""
        give_up = time.monotonic() + GATHER
        enough = min(max(GATHER_ENOUGH, len(self._in_flight) // 2), len(self._in_flight))
        try:
            while not self._news:
                with self._lock:
                    back = len(self._results)
                    self._wake_at = enough
                left = give_up - time.monotonic()
                if back == 0 or back >= enough or left <= 0:
                    return
                self.signal.wait(self.signal.count, left)
        finally:
            self._wake_at = 1

    def _heard(self) -> None:
        """A wake-up from outside (commits, NOTIFY, NATS): the next round goes ahead at once."""
        self._news = True
        self.signal.notify()

    def drain(self, rounds: int = 1000) -> None:
        """Works until nothing is due now and nothing is in flight (tests, the benchmark)."""
        for _ in range(rounds):
            seen = self.signal.count
            self.gather()
            if self.step():
                continue
            if not self._in_flight:
                return
            self.signal.wait(seen, self.options.deadline + 5)

    def settle(self) -> None:
        """Waits for the attempts in flight (each ends by its deadline) and records them."""
        give_up = time.monotonic() + self.options.deadline + 5
        while self._in_flight and time.monotonic() < give_up:
            seen = self.signal.count
            if not self.step(fan_out=False, claim=False):
                self.signal.wait(seen, 0.5)

    def run_periodic(self, stop: threading.Event) -> None:
        while not stop.is_set():
            for job in self.periodic:
                job.maybe_run()
            stop.wait(min((job.every for job in self.periodic), default=1.0) / 4)

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
        forget = self.wake.listen(self._heard)
        log.info("feed worker started")
        try:
            while not stop.is_set():
                seen = self.signal.count
                try:
                    self.gather()
                    busy = self.step()
                except Exception:  # a database hiccup must not end the worker: it logs and tries again
                    log.exception("feed worker round failed")
                    busy = False
                    stop.wait(self.options.poll)
                if not busy and not stop.is_set():
                    self.signal.wait(seen, self.options.poll)
            try:
                self.settle()
            except Exception:  # what is not recorded is sent again after its lease: at least once
                log.exception("feed worker could not record its last attempts")
        finally:
            forget()
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
