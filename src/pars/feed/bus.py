"""Wake-ups between PARS nodes over NATS JetStream, when ``PARS_NATS_URL`` is set.

PostgreSQL stays the system of record. What travels on NATS is only a notice that something
committed: ``<subject>.outbox`` (new outbox events: a worker should fan out), ``<subject>.stream``
(new events in partners' streams: ``{"streams": {"FBI": 42}}``, the agency code and its newest
sequence, so open event streams of that partner wake and read them from the database through the
gate) and ``<subject>.jobs`` (other feed work, e.g. a replay). No record content, no field the
gate has not decided, ever leaves through NATS.

Notices are published after the commit (a ``Session`` ``after_commit`` hook), never from inside
the transaction that holds the locks, and only the process's own loop talks to NATS: one thread
per process runs an asyncio loop that owns the connection (nats-py is asyncio; the app's request
handlers and the worker are threads). Publishing from any thread is a non-blocking hand-over.

Every failure degrades to the paths that work without NATS: PostgreSQL ``NOTIFY`` wakes workers,
and workers and open streams poll the database. NATS unreachable at start: the loop retries with
a capped backoff; lost mid-run: nats-py reconnects, and the loop sets up the stream and the
subscription again. Notices that could not be sent are dropped: nothing depends on them.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from fastapi import FastAPI
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.dml import Insert

from pars.feed.models import FeedEvent
from pars.feed.rows import rows_of
from pars.outbox.events import _WAKE as FEED_WORK  # set by outbox.wake_on_commit: "this commit has feed work"
from pars.outbox.events import OutboxEvent
from pars.outbox.signals import NEWS, WAKE, StreamNews, Wakeup
from pars.settings import Settings, parse_duration

log = structlog.get_logger()

# Key in Session.info: what this transaction's flushes added, published once it commits.
_PENDING = "pars.feed.bus"
_FEED_EVENTS = FeedEvent.__table__
_OUTBOX_EVENTS = OutboxEvent.__table__
CONNECT_TIMEOUT = 2
PUBLISH_TIMEOUT = 1.0
MAX_RETRY_DELAY = 10.0
LOG_EVERY = 30


@dataclass
class Notice:
    """What one or more commits added; merged while waiting to be sent, so a burst of commits
    becomes a few messages."""

    outbox: bool = False
    jobs: bool = False
    streams: dict[str, int] = field(default_factory=dict)
    # Feed work whose kind was not seen (rows written without the ORM or a recognised insert):
    # every open stream on every node looks, as if each partner's stream had grown.
    unknown: bool = False

    def __bool__(self) -> bool:
        return self.outbox or self.jobs or self.unknown or bool(self.streams)

    def merge(self, other: Notice) -> None:
        self.outbox |= other.outbox
        self.jobs |= other.jobs
        self.unknown |= other.unknown
        for agency, sequence in other.streams.items():
            self.streams[agency] = max(sequence, self.streams.get(agency, 0))

    def messages(self, node: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(subject suffix, body) pairs."""
        if self.streams or self.unknown:
            yield "stream", {"node": node, "streams": self.streams, "unknown": self.unknown}
        if self.outbox:
            yield "outbox", {"node": node}
        if self.jobs and not (self.streams or self.unknown):  # stream notices already wake the workers
            yield "jobs", {"node": node}


class NatsBus:
    """One per process. ``wake_worker``: this process runs a feed worker, which notices from other
    nodes should wake (``pars worker``, ``pars serve`` without ``--no-worker``)."""

    def __init__(self, settings: Settings, *, wake_worker: bool, wake: Wakeup = WAKE, news: StreamNews = NEWS) -> None:
        assert settings.nats_url is not None
        self.node = uuid.uuid4().hex
        self.servers = [server.strip() for server in settings.nats_url.split(",")]
        self.stream = settings.nats_stream
        self.subject = settings.nats_subject
        self.max_age = parse_duration(settings.nats_max_age).total_seconds()
        self.max_bytes = settings.nats_max_bytes
        self.wake_worker = wake_worker
        self._wake, self._news = wake, news
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="pars-nats", daemon=True)
        self._connected = threading.Event()
        self._lock = threading.Lock()
        self._pending = Notice()
        self._kick = asyncio.Event()
        self._stopping = asyncio.Event()
        self._client: Client | None = None
        self._failures = 0
        self._subscription: Subscription | None = None
        self._resuming: asyncio.Task[None] | None = None
        self.published = 0
        self.dropped = 0

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def start(self) -> NatsBus:
        global _RUNNING  # noqa: PLW0603 - one bus per process, which the commit hook must find
        _RUNNING = self
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        global _RUNNING  # noqa: PLW0603 - see start
        if _RUNNING is self:
            _RUNNING = None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(timeout)

    def notify(self, notice: Notice) -> None:
        """From any thread, after a commit: hands the notice to the loop and returns at once.
        While NATS is away it is dropped (PostgreSQL and polling carry the wake-up)."""
        if not self._connected.is_set():
            self.dropped += 1
            return
        with self._lock:
            self._pending.merge(notice)
        try:
            self._loop.call_soon_threadsafe(self._kick.set)
        except RuntimeError:  # the loop has stopped: the process is shutting down
            self.dropped += 1

    # Everything below runs on the bus's own loop.

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            # nats-py leaves helper tasks (heartbeat checks) behind on close; end them quietly.
            leftovers = asyncio.all_tasks(self._loop)
            for task in leftovers:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
            self._loop.close()

    async def _main(self) -> None:
        delay = 0.5
        stopping = asyncio.create_task(self._stopping.wait())
        while not self._stopping.is_set():
            client = Client()
            self._client, self._failures = client, 0
            # With unlimited reconnects nats-py keeps trying the first connection too (each
            # failure goes to _on_error, which logs it): wait for it or for the stop.
            connecting = asyncio.create_task(
                client.connect(
                    self.servers,
                    name=f"pars-{self.node[:8]}",
                    connect_timeout=CONNECT_TIMEOUT,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=1,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
            )
            await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not connecting.done():
                connecting.cancel()
                await _close(client)
                break
            try:
                connecting.result()
                await self._set_up(client)
            except Exception as exc:  # noqa: BLE001 - no JetStream, refused set-up: retried; PARS works on
                log.warning(
                    "nats set-up failed; feed wake-ups fall back to PostgreSQL and polling",
                    servers=self.servers,
                    error=type(exc).__name__,
                    retry_in_s=delay,
                )
                await _close(client)
                await asyncio.wait({stopping}, timeout=delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
                continue
            log.info("nats connected", stream=self.stream, subject=self.subject, node=self.node)
            self._connected.set()
            publisher = asyncio.create_task(self._publish_forever(client))
            await stopping
            publisher.cancel()
            self._connected.clear()
            if self._subscription is not None:
                with _suppress_all():
                    await self._subscription.unsubscribe()
            await _close(client)
        log.info("nats bus stopped", published=self.published, dropped=self.dropped)

    async def _set_up(self, client: Client) -> None:
        """Creates or updates the stream (idempotent: every node does it at start and after a
        reconnect, in case the server lost it) and subscribes to new notices."""
        js = client.jetstream()
        config = StreamConfig(
            name=self.stream,
            description="PARS feed wake-ups (identifiers only; PostgreSQL is the system of record)",
            subjects=[f"{self.subject}.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=self.max_age,
            max_bytes=self.max_bytes,
        )
        try:
            await js.add_stream(config)
        except BadRequestError:  # it exists with other limits: ours win, as configured now
            await js.update_stream(config)
        if self._subscription is not None:
            with _suppress_all():
                await self._subscription.unsubscribe()
        # An ordered consumer: ephemeral, in order, recreated by nats-py after a gap. NEW: the
        # past is in PostgreSQL; only what commits from now on is worth a wake-up.
        self._subscription = await js.subscribe(
            f"{self.subject}.>",
            stream=self.stream,
            cb=self._on_message,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )

    async def _publish_forever(self, client: Client) -> None:
        js: JetStreamContext = client.jetstream()
        while True:
            await self._kick.wait()
            self._kick.clear()
            with self._lock:
                notice, self._pending = self._pending, Notice()
            for suffix, body in notice.messages(self.node):
                if not client.is_connected:
                    self.dropped += 1
                    continue
                try:
                    await js.publish(f"{self.subject}.{suffix}", json.dumps(body).encode(), timeout=PUBLISH_TIMEOUT)
                    self.published += 1
                except Exception:  # a timeout or a lost connection: the wake-up is dropped, polling covers it
                    self.dropped += 1
                    log.debug("nats publish failed", subject=suffix, exc_info=True)

    async def _on_message(self, message: Msg) -> None:
        try:
            body = json.loads(message.data)
        except ValueError:
            log.warning("nats notice ignored: not JSON", subject=message.subject)
            return
        if not isinstance(body, dict) or body.get("node") == self.node:
            return  # our own: this process was woken when it committed
        if body.get("unknown") is True:
            self._news.announce_all()
        streams = body.get("streams")
        if isinstance(streams, dict):
            for agency, sequence in streams.items():
                if isinstance(agency, str) and isinstance(sequence, int):
                    self._news.announce(agency, sequence)
        if self.wake_worker:
            self._wake.notify()

    async def _on_error(self, error: Exception) -> None:
        """nats-py reports each failed (re)connection attempt here, about one a second while
        NATS is away: the first is logged, then one in ``LOG_EVERY``."""
        if self._connected.is_set():
            log.warning("nats error", error=type(error).__name__)
            return
        if self._failures % LOG_EVERY == 0:
            log.warning(
                "nats unreachable; feed wake-ups fall back to PostgreSQL and polling; retrying",
                servers=self.servers,
                error=type(error).__name__,
                attempts=self._failures + 1,
            )
        self._failures += 1

    async def _on_disconnected(self) -> None:
        if self._connected.is_set() and not self._stopping.is_set():
            log.warning("nats connection lost; feed wake-ups fall back to PostgreSQL and polling", node=self.node)
        self._connected.clear()

    async def _on_reconnected(self) -> None:
        # In a task of its own: nats-py waits for this callback inside its reconnection.
        self._resuming = asyncio.create_task(self._resume(self._client))

    async def _resume(self, client: Client | None) -> None:
        """Sets the stream and the subscription up again (the server may have lost them); tried
        again every few seconds while it fails (JetStream electing a leader, say), polling
        carrying the wake-ups meanwhile."""
        delay = 0.5
        while client is not None and client.is_connected and not self._stopping.is_set():
            try:
                await self._set_up(client)
            except Exception as exc:  # noqa: BLE001 - retried; PARS works on without NATS
                log.warning("nats reconnected but the stream could not be set up", error=type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
                continue
            log.info("nats reconnected", stream=self.stream, node=self.node)
            self._failures = 0
            self._connected.set()
            return


# The bus of this process, if any: the commit hook hands notices to it.
_RUNNING: NatsBus | None = None


@contextmanager
def _suppress_all() -> Iterator[None]:
    try:
        yield
    except Exception:  # tidying up a connection that may already be gone
        log.debug("nats clean-up failed", exc_info=True)


async def _close(client: Client) -> None:
    with _suppress_all():
        await asyncio.wait_for(client.close(), 2.0)


# The commit hook. Listeners are registered once, at import; they do nothing without a bus.


def _pending(session: Session) -> Notice:
    notice: Notice | None = session.info.get(_PENDING)
    if notice is None:
        notice = session.info[_PENDING] = Notice()
    return notice


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _flush: UOWTransaction) -> None:
    if _RUNNING is None:
        return
    notice = None
    for instance in session.new:
        if isinstance(instance, FeedEvent):
            notice = notice or _pending(session)
            notice.streams[instance.agency] = max(instance.sequence, notice.streams.get(instance.agency, 0))
        elif isinstance(instance, OutboxEvent):
            notice = notice or _pending(session)
            notice.outbox = True


@event.listens_for(Session, "do_orm_execute")
def _collect_inserts(state: ORMExecuteState) -> None:
    """Stream events written as a plain insert through the session (the fan-out writes them a
    batch at a time): their agencies and sequences are in the parameters. Outbox events are
    written so too (`pars.outbox.events.emit`)."""
    if _RUNNING is None or not isinstance(state.statement, Insert):
        return
    if state.statement.table is _OUTBOX_EVENTS:
        _pending(state.session).outbox = True
        return
    if state.statement.table is not _FEED_EVENTS:
        return
    rows = rows_of(state.parameters)
    notice = _pending(state.session)
    notice.unknown |= not rows  # values inside the statement: every open stream looks
    for row in rows:
        agency, sequence = row.get("agency"), row.get("sequence")
        if isinstance(agency, str) and isinstance(sequence, int):
            notice.streams[agency] = max(sequence, notice.streams.get(agency, 0))
        else:
            notice.unknown = True


def _publish_after_commit(session: Session) -> None:
    notice: Notice | None = session.info.pop(_PENDING, None)
    bus = _RUNNING
    if bus is None:
        return
    # Feed work added some other way (a replay's jobs, an insert from a select) shows only as
    # outbox's marker: other nodes' workers, and every open stream, take a look.
    if session.info.get(FEED_WORK) and not notice:
        notice = Notice(jobs=True, unknown=True)
    if notice:
        bus.notify(notice)


def _forget(session: Session, *_: object) -> None:
    session.info.pop(_PENDING, None)


# insert=True: before outbox's own hook, which takes its marker away.
event.listen(Session, "after_commit", _publish_after_commit, insert=True)
event.listen(Session, "after_rollback", _forget)


# Wiring into the two kinds of process.


@contextmanager
def connected_to(settings: Settings, *, wake_worker: bool) -> Iterator[NatsBus | None]:
    """The bus for the block's duration when ``PARS_NATS_URL`` is set; otherwise nothing."""
    if settings.nats_url is None:
        yield None
        return
    bus = NatsBus(settings, wake_worker=wake_worker).start()
    try:
        yield bus
    finally:
        bus.stop()


def attach(app: FastAPI, settings: Settings, *, wake_worker: bool) -> None:
    """Runs the bus for as long as the server runs (`pars serve`)."""
    if settings.nats_url is None:
        return
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        with connected_to(settings, wake_worker=wake_worker):
            async with inner(application) as state:
                yield state

    app.router.lifespan_context = lifespan
