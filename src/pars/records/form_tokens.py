"""One-time booking form tokens (issue 15 item 5): a booking sent twice (a double click, a slow
network, Back and send again) books once.

The booking page carries a random token; the POST that books spends it in the booking's own
transaction, so the arrest and its spent token are committed together or not at all. A POST with
a token already spent books nothing and is sent to the arrest the first one booked.

The spent tokens live in the API's idempotency table (`pars.api.models.IdempotencyKey`, CONTRACT
§3) rather than a table of their own: it is the same promise (a repeat of a creating request
changes nothing and gets the first answer), keyed per user, purged after the same 24 hours, and
its primary key does the locking on both databases: on PostgreSQL a second insert of the same
key waits for the first transaction and then finds its row; SQLite runs one writer at a time
(BEGIN IMMEDIATE). The key is hashed with a prefix no API key can produce the same hash for
(the API hashes the bare header value, which has no room for the arrest id we store). Nothing
is written when the page is shown: a token that is never sent costs nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from pars.api.models import IdempotencyKey
from pars.clock import now

_FORM = "POST /arrests/new"
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
# What the row's `answer` holds for a form token: the booked arrest's id (not a response body).
_MEDIA_TYPE = "application/x-pars-arrest-id"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def well_formed(token: str) -> bool:
    return bool(_SHAPE.match(token))


def _key_hash(token: str) -> str:
    return hashlib.sha256(f"pars booking form\n{token}".encode()).hexdigest()


def _fingerprint() -> str:
    return hashlib.sha256(_FORM.encode()).hexdigest()


def spent_on(session: Session, user_id: uuid.UUID, token: str) -> uuid.UUID | None:
    """The arrest a token was already spent on, or None."""
    answer = session.scalar(
        select(IdempotencyKey.answer).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key_hash == _key_hash(token)
        )
    )
    return uuid.UUID(bytes=answer) if answer is not None and len(answer) == 16 else None


def spend(session: Session, user_id: uuid.UUID, token: str, arrest_id: uuid.UUID) -> uuid.UUID | None:
    """Spends the token on ``arrest_id`` in the caller's transaction. Returns None when it was
    spent now; else the arrest it was already spent on (a concurrent first POST that committed
    while this one booked), and the caller must undo its own booking."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(IdempotencyKey)
        .values(
            user_id=user_id,
            key_hash=_key_hash(token),
            fingerprint=_fingerprint(),
            created_at=now(session),
            status=303,
            media_type=_MEDIA_TYPE,
            answer=arrest_id.bytes,
        )
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.user_id)
    )
    if session.execute(statement).first() is not None:
        return None
    return spent_on(session, user_id, token)
