"""The unit of work: one transaction for a request, a command, a demo step or a worker job.

It commits at the end, rolls back on any error, and, when a domain
error carries a refusal, records that refusal in a transaction of its own: a refused act changes
nothing but still leaves its trace on the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from pars.actors import SYSTEM, Actor
from pars.audit import Outcome, record_event
from pars.clock import Clock
from pars.errors import DomainError, Refusal


@contextmanager
def unit_of_work(
    factory: sessionmaker[Session],
    clock: Clock,
    actor: Actor = SYSTEM,
    *,
    hand_over: Callable[[Session], bool] | None = None,
) -> Iterator[Session]:
    """``hand_over``, when given, is offered the session when the block ends normally; when it
    takes it (returns True) there is no commit here: the taker commits or rolls back and closes
    it (a request with an idempotency key commits only once its answer is stored with the
    change, see `pars.api.idempotency`)."""
    session, owned = factory(), True
    try:
        session.info["clock"] = clock
        session.info["actor"] = actor
        try:
            yield session
            if hand_over is not None and hand_over(session):
                owned = False
                return
            session.commit()
        except DomainError as error:
            settle(session, error)
            raise
        except BaseException:
            session.rollback()
            raise
    finally:
        if owned:
            session.close()


def settle(session: Session, error: DomainError) -> None:
    """A refused act changes nothing: roll back, then write its refusal (if any) and commit.
    For callers that show the error themselves (the web pages re-render their form)."""
    session.rollback()
    if error.refusal is not None:
        record_refusal(session, session.info.get("actor", SYSTEM), error.refusal)
        session.commit()


def record_refusal(session: Session, actor: Actor, refusal: Refusal) -> None:
    """The refusal's entry, and whatever the refusal itself must change (a failed sign-in counts
    towards locking the key), in the transaction that follows the rollback."""
    record_event(session, actor, refusal.action, refusal.target, refusal.details, outcome=Outcome.REFUSED)
    if refusal.aftermath is not None:
        refusal.aftermath(session)
