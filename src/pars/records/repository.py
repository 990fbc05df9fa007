from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pars.errors import NotFound
from pars.records.models import Arrest


def load_arrest(session: Session, arrest_id: uuid.UUID, *, for_update: bool = False) -> Arrest:
    query = select(Arrest).where(Arrest.id == arrest_id)
    if for_update:
        # Two clerks acting on one record at once: the second waits and then sees the new state.
        query = query.with_for_update(of=Arrest)
    arrest = session.scalars(query).first()
    if arrest is None:
        raise NotFound("no such arrest")
    return arrest


def counts_by_status(session: Session) -> list[tuple[str, int]]:
    """How many arrests are in each workflow status (the `pars_arrests` gauge)."""
    rows = session.execute(select(Arrest.status, func.count()).group_by(Arrest.status))
    return [(str(status), int(count)) for status, count in rows]
