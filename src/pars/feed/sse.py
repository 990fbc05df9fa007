"""Server-Sent Events: the partner's stream, live (CONTRACT §9).

``id:`` is the sequence, ``event:`` the type, ``data:`` the CloudEvent. A client that reconnects
with ``Last-Event-ID`` resumes right after it, with no gap and no repeat; without it the stream
starts with events made after the connection. Each batch is decided by the gate at the moment
it is sent, in a short transaction of its own (never one held open for the connection). The
stream closes as soon as the agreement it was opened under no longer allows it.

The loop sleeps until woken: by ``signals.WAKE`` (a commit with feed events in this process), by
``signals.NEWS`` (another node's worker announced new events of this partner over NATS), or by
its ``poll`` interval, which alone covers a cluster without NATS, or with NATS down. A comment
line every ``keepalive`` seconds keeps proxies from closing an idle connection.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import anyio
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pars.actors import PartnerActor
from pars.audit import AuditAction, record_event
from pars.audit.chain import CheckpointPolicy
from pars.clock import Clock
from pars.errors import DomainError
from pars.feed.events import feed_item, format_sequence, to_json
from pars.feed.models import FeedEvent
from pars.feed.service import last_sequence, parse_sequence
from pars.outbox.signals import NEWS, WAKE
from pars.sharing import gate
from pars.sharing.gate import PartnerRequest
from pars.work import unit_of_work

KEEPALIVE_SECONDS = 15.0
POLL_SECONDS = 1.0
BATCH = 100
RECONNECT_MS = 3000
# A local wake-up is followed at most this often (seconds); news of the partner at once.
LOCAL_GAP = 0.05


@dataclass(frozen=True)
class StreamStart:
    after: int
    # The agreement in force at opening, when it allowed the feed; None: release notices only.
    agreement_id: uuid.UUID | None


@dataclass(frozen=True)
class StreamContext:
    factory: sessionmaker[Session]
    clock: Clock
    policy: CheckpointPolicy
    actor: PartnerActor
    request: PartnerRequest
    zone: ZoneInfo
    keepalive: float = KEEPALIVE_SECONDS
    poll: float = POLL_SECONDS


@dataclass(frozen=True)
class _Batch:
    frames: list[bytes]
    cursor: int
    more: bool
    stopped: bool


def open_stream(
    session: Session, actor: PartnerActor, request: PartnerRequest, last_event_id: str | None
) -> StreamStart:
    """In the request's transaction, before any byte is streamed, so a refusal is a plain 403."""
    assert actor.agency_code is not None
    grant = gate.open_feed(session, actor, request)
    if last_event_id is not None and last_event_id.strip():
        after = parse_sequence(last_event_id, "Last-Event-ID")
    else:
        after = last_sequence(session, actor.agency_code)
    record_event(session, actor, AuditAction.FEED_READ, None, {"stream": True, "after": after})
    return StreamStart(after, None if grant is None else grant.agreement_id)


def frame(sequence: int, event_type: str, body: bytes) -> bytes:
    return f"id: {format_sequence(sequence)}\nevent: {event_type}\ndata: ".encode() + body + b"\n\n"


def fetch(context: StreamContext, start: StreamStart, cursor: int) -> _Batch:
    """The next events after ``cursor`` that may leave now, as SSE frames; or ``stopped``."""
    with unit_of_work(context.factory, context.clock, policy=context.policy, actor=context.actor) as session:
        try:
            grant = gate.open_feed(session, context.actor, context.request)
        except DomainError:  # the purpose was taken out of the agreement
            grant = None
        if start.agreement_id is not None and (grant is None or grant.agreement_id != start.agreement_id):
            return _Batch([], cursor, more=False, stopped=True)
        events = list(
            session.scalars(
                select(FeedEvent)
                .where(FeedEvent.agency == context.actor.agency_code, FeedEvent.sequence > cursor)
                .order_by(FeedEvent.sequence)
                .limit(BATCH)
            )
        )
        if not events:
            return _Batch([], cursor, more=False, stopped=False)
        allowed = gate.deliver(
            session, context.actor, [feed_item(e) for e in events], context.request, zone=context.zone
        )
        frames = [
            frame(event.sequence, event.type, to_json(event, data))
            for event, data in zip(events, allowed, strict=True)
            if data is not None
        ]
        return _Batch(frames, events[-1].sequence, more=len(events) == BATCH, stopped=False)


class _Alarm:
    """Notes why this partner may have new events: ``news`` (another node announced events of
    this partner, over NATS) or ``local`` (``WAKE``: a commit with feed work in this process,
    which may be anyone's). The signals fire on other threads (request threads, the worker, the
    NATS loop), so ringing only schedules the note on the stream's own loop."""

    def __init__(self, agency: str) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self.news = self.local = False
        self._off = [WAKE.listen(lambda: self._ring("local")), NEWS.listen(agency, lambda: self._ring("news"))]

    def _ring(self, why: str) -> None:
        try:
            self._loop.call_soon_threadsafe(self._note, why)
        except RuntimeError:  # the loop has closed: the stream is gone anyway
            return

    def _note(self, why: str) -> None:
        setattr(self, why, True)
        self._event.set()

    def arm(self) -> None:
        """Before looking at the notes: a ring from here on ends the next ``sleep``."""
        self._event.clear()

    def taken(self) -> None:
        self.news = self.local = False

    async def sleep(self, seconds: float) -> None:
        with anyio.move_on_after(max(seconds, 0.0)):
            await self._event.wait()

    def close(self) -> None:
        for off in self._off:
            off()


async def stream(context: StreamContext, start: StreamStart) -> AsyncIterator[bytes]:
    """Runs until the client goes (Starlette cancels it) or the agreement stops.

    News of this partner is read at once; a local wake-up at most every ``LOCAL_GAP`` seconds,
    since most of them (every booking in this process) bring nothing for this partner."""
    assert context.actor.agency_code is not None
    yield f"retry: {RECONNECT_MS}\n\n".encode()
    cursor, due, quiet_since, last = start.after, 0.0, time.monotonic(), 0.0
    alarm = _Alarm(context.actor.agency_code)
    try:
        while True:
            alarm.arm()
            moment = time.monotonic()
            if alarm.news or (alarm.local and moment - last >= LOCAL_GAP) or moment >= due:
                alarm.taken()
                batch = await anyio.to_thread.run_sync(fetch, context, start, cursor)
                last = time.monotonic()
                due = last + context.poll
                for chunk in batch.frames:
                    yield chunk
                if batch.frames:
                    quiet_since = time.monotonic()
                cursor = batch.cursor
                if batch.stopped:
                    yield b": the agreement no longer allows this feed; closing\n\n"
                    return
                if batch.more:
                    continue
            if time.monotonic() - quiet_since >= context.keepalive:
                yield b": keep-alive\n\n"
                quiet_since = time.monotonic()
            until = min(due, quiet_since + context.keepalive)
            if alarm.local:
                until = min(until, last + LOCAL_GAP)
            await alarm.sleep(until - time.monotonic())
    finally:
        alarm.close()
