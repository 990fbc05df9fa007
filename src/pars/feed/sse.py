"""Server-Sent Events: the partner's stream, live (CONTRACT §9).

``id:`` is the sequence, ``event:`` the type, ``data:`` the CloudEvent. A client that reconnects
with ``Last-Event-ID`` resumes right after it, with no gap and no repeat; without it the stream
starts with events made after the connection. Each batch is decided by the gate at the moment
it is sent, in a short transaction of its own (never one held open for the connection). The
stream closes as soon as the agreement it was opened under no longer allows it.

The loop wakes on ``signals.WAKE`` (a fan-out in this process) and looks at the database at least
every ``poll`` seconds anyway (a worker in another process); a comment line every ``keepalive``
seconds keeps proxies from closing an idle connection.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import anyio
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pars.audit import AuditAction, record_event
from pars.auth.principal import Actor
from pars.clock import Clock
from pars.errors import DomainError
from pars.feed.events import feed_item, format_sequence, to_json
from pars.feed.models import FeedEvent
from pars.feed.service import last_sequence, parse_sequence
from pars.feed.signals import WAKE
from pars.sharing import gate
from pars.sharing.gate import PartnerRequest
from pars.work import unit_of_work

KEEPALIVE_SECONDS = 15.0
POLL_SECONDS = 1.0
BATCH = 100
RECONNECT_MS = 3000


@dataclass(frozen=True)
class StreamStart:
    after: int
    # The agreement in force at opening, when it allowed the feed; None: release notices only.
    agreement_id: uuid.UUID | None


@dataclass(frozen=True)
class StreamContext:
    factory: sessionmaker[Session]
    clock: Clock
    actor: Actor
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


def open_stream(session: Session, actor: Actor, request: PartnerRequest, last_event_id: str | None) -> StreamStart:
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
    with unit_of_work(context.factory, context.clock, context.actor) as session:
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


async def stream(context: StreamContext, start: StreamStart) -> AsyncIterator[bytes]:
    """Runs until the client goes (Starlette cancels it) or the agreement stops."""
    yield f"retry: {RECONNECT_MS}\n\n".encode()
    cursor, seen, due, quiet_since = start.after, -1, 0.0, time.monotonic()
    while True:
        if WAKE.count != seen or time.monotonic() >= due:
            seen = WAKE.count
            batch = await anyio.to_thread.run_sync(fetch, context, start, cursor)
            due = time.monotonic() + context.poll
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
        await anyio.sleep(0.05)
