"""The unit of work: one transaction for a request, a command, a demo step or a worker job, and
the only place that commits.

It commits at the end, rolls back on any error, and, when a domain error carries a refusal,
records that refusal in a transaction of its own: a refused act changes nothing but still leaves
its trace on the audit trail.

What every session needs is handed in here and nowhere else: the clock (``pars.clock.now``), the
audit checkpoint policy with its signer (``pars.audit.chain``: checkpoints, and the keyed hashes
of ``pars.sharing.keyed``) and the actor a refusal is recorded for. They are required
parameters, not optional entries a session may silently lack: reading one a session was not
given raises `OutsideUnitOfWork`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from pars.actors import SYSTEM, Actor
from pars.audit import Outcome, record_event
from pars.audit.chain import POLICY, CheckpointPolicy, checkpoint_policy
from pars.clock import CLOCK, Clock
from pars.db import make_session_factory
from pars.errors import DomainError, OutsideUnitOfWork, Refusal
from pars.settings import Settings

# Keys in Session.info, set in this module only.
ACTOR = "pars.actor"
_REFUSED = "pars.work.refused"


class Keep(Exception):
    """Ends a unit of work early without undoing it: the boundary commits what the block did,
    then lets the exception go on to its handler (a lapsed browser session's end is on the
    trail, and the browser is sent to sign in)."""


def bind(session: Session, clock: Clock, *, policy: CheckpointPolicy | None, actor: Actor = SYSTEM) -> None:
    """Gives ``session`` what its work reads. ``policy`` None is only for a session that signs
    nothing (the public page's read-only computation, a test looking at the database): it may
    not commit audit entries nor hash a subject, and fails loudly if it tries."""
    session.info[CLOCK] = clock
    session.info[ACTOR] = actor
    if policy is not None:
        session.info[POLICY] = policy


@contextmanager
def unit_of_work(
    factory: sessionmaker[Session],
    clock: Clock,
    *,
    policy: CheckpointPolicy,
    actor: Actor = SYSTEM,
    hand_over: Callable[[HandedOver], bool] | None = None,
) -> Iterator[Session]:
    """``hand_over``, when given, is offered the open transaction when the block ends normally;
    when it takes it (returns True) there is no commit yet: the taker ends it later with
    `HandedOver.finish` or `HandedOver.abandon` (a request with an idempotency key commits only
    once its answer is stored with the change, see `pars.api.idempotency`)."""
    session, owned = factory(), True
    try:
        bind(session, clock, policy=policy, actor=actor)
        try:
            yield session
            if hand_over is not None and hand_over(HandedOver(session)):
                owned = False
                return
            session.commit()
        except Keep:
            session.commit()
            raise
        except DomainError as error:
            _undo(session, error.refusal)
            raise
        except BaseException:
            _undo(session, None)
            raise
    finally:
        if owned:
            session.close()


class HandedOver:
    """A unit of work's open transaction, taken over to be ended a moment later (its commit
    still happens here, in this module)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def finish(self, last: Callable[[Session], object]) -> None:
        """``last`` writes what goes with the change (the stored answer), then all commits."""
        try:
            last(self._session)
            self._session.commit()
        except BaseException:
            self._session.rollback()
            raise
        finally:
            self._session.close()

    def abandon(self) -> None:
        self._session.rollback()
        self._session.close()


@contextmanager
def command_work(settings: Settings, engine: Engine, clock: Clock, actor: Actor = SYSTEM) -> Iterator[Session]:
    """The unit of work of a `pars` command, with the checkpoint policy of ``settings`` (its
    signing key): a command's refused act is on the trail as the API's is."""
    with unit_of_work(make_session_factory(engine), clock, policy=checkpoint_policy(settings), actor=actor) as session:
        yield session


def _undo(session: Session, refusal: Refusal | None) -> None:
    """Undo the block; keep the refusals it answered itself (`refuse`) and ``refusal``."""
    session.rollback()
    refusals = [*session.info.pop(_REFUSED, ()), *([refusal] if refusal is not None else [])]
    if refusals:
        for each in refusals:
            record_refusal(session, acting(session), each)
        session.commit()


def refuse(session: Session, error: DomainError) -> None:
    """For a caller that answers a refused act itself (a page shows its form again with the
    error): what the act did is undone now, and its refusal is written in the transaction that
    follows, which the unit of work commits at its end. Should the rest of the block fail, the
    refusal is written again after that rollback: it is never lost. Never commits."""
    session.rollback()
    if error.refusal is not None:
        session.info.setdefault(_REFUSED, []).append(error.refusal)
        record_refusal(session, acting(session), error.refusal)


def act_as(session: Session, actor: Actor) -> None:
    """The caller, once known (a request authenticates inside its unit of work)."""
    session.info[ACTOR] = actor


def acting(session: Session) -> Actor:
    try:
        actor: Actor = session.info[ACTOR]
    except KeyError:
        raise OutsideUnitOfWork("actor") from None
    return actor


def record_refusal(session: Session, actor: Actor, refusal: Refusal) -> None:
    """The refusal's entry, and whatever the refusal itself must change (a failed sign-in counts
    towards locking the key), in the transaction that follows the rollback."""
    record_event(session, actor, refusal.action, refusal.target, refusal.details, outcome=Outcome.REFUSED)
    if refusal.aftermath is not None:
        refusal.aftermath(session)
