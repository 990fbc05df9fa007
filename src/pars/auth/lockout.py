"""Failed sign-ins and key locks (CJIS Security Policy 5.5.3: lock after at most five
consecutive invalid attempts, for at least ten minutes).

A wrong secret presented with a known key id counts one failure on that key. The request fails
and its transaction rolls back, so the count is carried by the refusal (``Refusal.aftermath``)
and written with the refusal's own entry in the transaction that follows the rollback. The fifth
failure in a row locks the key for ten minutes: every request with it is then a 401, even with
the right secret. A success resets the count.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from pars.actors import SYSTEM, Actor
from pars.audit import AuditAction, record_event
from pars.auth.models import ApiKey, Credentials
from pars.clock import now

LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=10)


def is_locked(key: ApiKey, instant: datetime) -> bool:
    return key.locked_until is not None and key.locked_until > instant


def count_failure(key_pk: uuid.UUID, user_id: uuid.UUID, key_id: str | None) -> Callable[[Session], None]:
    """The aftermath of one wrong secret: count it, and lock the key at the fifth in a row."""
    return failure_counter(ApiKey, ApiKey.id == key_pk, user_id, {"key_id": key_id})


def failure_counter(
    model: type[ApiKey | Credentials],
    row: ColumnElement[bool],
    user_id: uuid.UUID,
    details: dict[str, object],
    *,
    on_lock: Callable[[Session], None] | None = None,
) -> Callable[[Session], None]:
    """Counts one failure on the `model` row (an API key, or a user's web credentials) and locks
    it at the fifth in a row; `on_lock` runs too when it locks."""

    def count(session: Session) -> None:
        # One UPDATE … RETURNING: concurrent failures each see their own count, so exactly one of
        # them reaches the threshold and locks.
        failures = session.execute(
            update(model)
            .where(row)
            .values(failures=model.failures + 1)
            .returning(model.failures)
            .execution_options(synchronize_session=False)
        ).scalar_one()
        if failures < LOCK_AFTER:
            return
        until = now(session) + LOCK_FOR
        session.execute(
            update(model).where(row).values(failures=0, locked_until=until).execution_options(synchronize_session=False)
        )
        if on_lock is not None:
            on_lock(session)
        record_event(
            session,
            SYSTEM,
            AuditAction.AUTH_LOCKED,
            user_id,
            details | {"failures": failures, "locked_until": until.isoformat()},
        )

    return count


def note_success(session: Session, actor: Actor, key: ApiKey) -> None:
    """Audits the successes worth an entry, and resets what a success resets.

    Every audited action already names its authenticated user, so a success is written on its
    own only when it tells something new: the key's first use, or the first use after failed
    attempts or after a lock ran out.
    """
    instant = now(session)
    details: dict[str, object] = {}
    if key.first_used_at is None:
        key.first_used_at = instant
        details["first_use"] = True
    if key.failures:
        details["failures_before"] = key.failures
        key.failures = 0
    if key.locked_until is not None:
        details["lock_ended"] = key.locked_until.isoformat()
        key.locked_until = None
    if details:
        record_event(session, actor, AuditAction.AUTH_SUCCEEDED, key.user_id, {"key_id": key.key_id} | details)
