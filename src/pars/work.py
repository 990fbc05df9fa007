"""The unit of work for code outside HTTP (commands, the demo, the worker).

Like the request boundary, it commits at the end, rolls back on any error, and, when a domain
error carries a refusal, records that refusal in a transaction of its own: a refused act changes
nothing but still leaves its trace on the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from pars.audit import Outcome, record_event
from pars.auth.principal import SYSTEM, Actor
from pars.clock import Clock
from pars.errors import DomainError


@contextmanager
def unit_of_work(factory: sessionmaker[Session], clock: Clock, actor: Actor = SYSTEM) -> Iterator[Session]:
    with factory() as session:
        session.info["clock"] = clock
        session.info["actor"] = actor
        try:
            yield session
            session.commit()
        except DomainError as error:
            session.rollback()
            if error.refusal is not None:
                refusal = error.refusal
                record_event(
                    session, session.info.get("actor", SYSTEM), refusal.action, refusal.target, refusal.details,
                    outcome=Outcome.REFUSED,
                )  # fmt: skip
                session.commit()
            raise
        except BaseException:
            session.rollback()
            raise
