"""Idempotency keys (CONTRACT §3): a client that lost its connection retries a POST safely.

A `POST` under `/api/v1` with `Idempotency-Key: <1–255 printable characters>`:
- first time (for this user, within 24 hours): the key is claimed by a row inserted in the
  request's own transaction, the request runs, and its answer (status and body) is written into
  that row *before the transaction commits*, so the change and its stored answer are durable
  together or not at all (a crash never leaves a change without its answer);
- again with the same method, path and body: the stored answer, and nothing changes;
- again with another method, path or body: 422;
- while the first is still running: the duplicate waits for it (the key's row is locked by the
  first transaction; SQLite runs one writer at a time anyway) and then gets its answer. If the
  first takes longer than the lock timeout, the duplicate gets 503 with Retry-After, and its
  retry the stored answer.

Only answers the route produced are stored; an error (4xx) leaves the key unclaimed, since a
failed request changes nothing and the retry gets the same error from the same state.

Why a middleware is part of it: FastAPI serialises the response after the route returns, and the
request's unit of work commits as soon as the response exists, before its bytes are visible to
anyone. So for a claimed key the unit of work hands its open transaction over
(`pars.work.unit_of_work`'s ``hand_over``), and `KeyedCommit` stores the answer, has it
committed (`pars.work.HandedOver`), and only then sends the response.

Stored answers can hold names and, for `POST /users`, a new API key. The key value itself is
never stored (only a hash finds the row), and the answer is sealed with AES-GCM under a key
derived from the client's key: the table alone reveals nothing. Clients should use random keys
(a UUID).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import FastAPI, Request, Response
from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pars.api.models import IdempotencyKey
from pars.api.problems import SATURATION, problem, saturated
from pars.clock import now
from pars.errors import BadRequest, Conflict, Invalid
from pars.work import HandedOver

HEADER = "idempotency-key"
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# Expired rows removed by each keyed request (more, when more have expired, by the next ones).
PURGE_BATCH = 100
_STATE = "pars.idempotency"
_REPLAYED = "Idempotent-Replayed"

log = structlog.get_logger()


@dataclass(frozen=True)
class Answer:
    status: int
    media_type: str | None
    body: bytes


class Replay(Exception):
    def __init__(self, answer: Answer) -> None:
        super().__init__("replayed")
        self.answer = answer


@dataclass
class Ticket:
    """A claimed key: the request's open session, once the route returned, waits here for the
    answer (see `KeyedCommit`)."""

    user_id: uuid.UUID
    key_hash: str
    secret: bytes = field(repr=False)
    work: HandedOver | None = None


def parse_key(raw: str) -> str:
    if not 1 <= len(raw) <= MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in raw):
        raise BadRequest(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters")
    return raw


def _secret(user_id: uuid.UUID, key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=user_id.bytes, info=b"pars idempotency").derive(key.encode())


def _fingerprint(secret: bytes, method: str, path: str, body: bytes) -> str:
    """The request as the key's owner sent it: JSON bodies compare by content, whatever the
    spacing or member order."""
    try:
        content = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        content = body
    return hmac.new(secret, b"%s %s\n%s" % (method.encode(), path.encode(), content), hashlib.sha256).hexdigest()


def _seal(secret: bytes, body: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(secret).encrypt(nonce, body, None)


def _open(secret: bytes, sealed: bytes) -> bytes:
    return AESGCM(secret).decrypt(sealed[:12], sealed[12:], None)


async def keyed(request: Request, session: Session, user_id: uuid.UUID) -> None:
    """The shared /api/v1 dependency's part: claim the key, or raise `Replay` with the stored
    answer. Does nothing for a request without the header or other than POST."""
    raw = request.headers.get(HEADER)
    if raw is None or request.method != "POST":
        return
    key = parse_key(raw)
    secret = _secret(user_id, key)
    ticket = Ticket(user_id=user_id, key_hash=hashlib.sha256(key.encode()).hexdigest(), secret=secret)
    fingerprint = _fingerprint(secret, request.method, request.url.path, await request.body())
    stored = await run_in_threadpool(claim, session, ticket, fingerprint)
    if stored is not None:
        raise Replay(stored)
    request.scope.setdefault("state", {})[_STATE] = ticket


def claim(session: Session, ticket: Ticket, fingerprint: str) -> Answer | None:
    """Claims the key in the session's transaction, or returns the answer stored for it."""
    instant = now(session)
    _purge(session, instant - TTL)
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {"user_id": ticket.user_id, "key_hash": ticket.key_hash, "fingerprint": fingerprint, "created_at": instant}
    statement = insert(IdempotencyKey).values(**values).on_conflict_do_nothing()
    # On PostgreSQL a concurrent first request holds the row: this waits until it commits.
    if session.execute(statement.returning(IdempotencyKey.user_id)).first() is not None:
        return None
    this_key = (IdempotencyKey.user_id == ticket.user_id, IdempotencyKey.key_hash == ticket.key_hash)
    row = session.execute(select(IdempotencyKey).where(*this_key)).scalar_one()
    if row.created_at <= instant - TTL:
        # Expired, but another request's purge held it: forget it here and claim afresh.
        session.execute(delete(IdempotencyKey).where(*this_key))
        session.execute(insert(IdempotencyKey).values(**values))
        return None
    if not hmac.compare_digest(row.fingerprint, fingerprint):
        raise Invalid.one("Idempotency-Key", "was already used with another request (method, path or body)")
    if row.status is None or row.answer is None:
        raise Conflict("a request with this Idempotency-Key is still in progress")
    try:
        body = _open(ticket.secret, row.answer)
    except InvalidTag as exc:  # not ours: the hash matched but the sealing key does not
        raise Invalid.one("Idempotency-Key", "was already used with another request") from exc
    return Answer(status=row.status, media_type=row.media_type, body=body)


def _purge(session: Session, cutoff: datetime) -> None:
    """Removes a batch of expired keys of any user, skipping rows another request holds, so
    purging never makes two requests wait for each other."""
    expired = (
        select(IdempotencyKey.user_id, IdempotencyKey.key_hash)
        .where(IdempotencyKey.created_at <= cutoff)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(IdempotencyKey).where(tuple_(IdempotencyKey.user_id, IdempotencyKey.key_hash).in_(expired)))


def hand_over(request: Request, work: HandedOver) -> bool:
    """For the request's unit of work: takes its session, instead of the commit, when this
    request claimed a key; `KeyedCommit` then commits it with the answer."""
    ticket: Ticket | None = request.scope.get("state", {}).get(_STATE)
    if ticket is None:
        return False
    ticket.work = work
    return True


def _store(ticket: Ticket, answer: Answer) -> None:
    work = ticket.work
    assert work is not None
    work.finish(
        lambda session: session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.user_id == ticket.user_id, IdempotencyKey.key_hash == ticket.key_hash)
            .values(status=answer.status, media_type=answer.media_type, answer=_seal(ticket.secret, answer.body))
        )
    )


def _abandon(ticket: Ticket) -> None:
    if ticket.work is not None:
        ticket.work.abandon()


class KeyedCommit:
    """Below admission and above the app: for a request whose route claimed an idempotency key,
    holds the response back, stores it in the request's still open transaction, commits, and
    only then sends it. Every other request passes through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        def ticket() -> Ticket | None:
            found: Ticket | None = scope.get("state", {}).get(_STATE)
            return found if found is not None and found.work is not None else None

        async def hold(message: Message) -> None:
            claimed = ticket()
            if claimed is None:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                await self._commit_then_send(scope, receive, send, claimed, held)

        try:
            await self.app(scope, receive, hold)
        finally:
            claimed = ticket()
            if claimed is not None:  # the response never completed: nothing may stay half done
                await run_in_threadpool(_abandon, claimed)

    async def _commit_then_send(
        self, scope: Scope, receive: Receive, send: Send, claimed: Ticket, held: list[Message]
    ) -> None:
        start = held[0]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start.get("headers", [])}
        body = b"".join(m.get("body", b"") for m in held[1:])
        answer = Answer(status=start["status"], media_type=headers.get("content-type"), body=body)
        try:
            await run_in_threadpool(_store, claimed, answer)
        except SATURATION as exc:
            claimed.work = None
            await saturated(exc)(scope, receive, send)
            return
        except Exception:
            claimed.work = None
            log.exception("storing an idempotent answer failed")
            await problem(500, "an unexpected error occurred; it has been logged")(scope, receive, send)
            return
        claimed.work = None
        for message in held:
            await send(message)


def _replayed(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)
    answer = exc.answer
    return Response(answer.body, status_code=answer.status, media_type=answer.media_type, headers={_REPLAYED: "true"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(Replay, _replayed)
