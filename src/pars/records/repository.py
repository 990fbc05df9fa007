from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pars.actors import CityActor
from pars.errors import Forbidden, NotFound
from pars.records.models import Arrest


def city_only(actor: CityActor) -> None:
    """Every records service that reads or returns a record starts here. The types already keep
    partners out (only a check that refuses partners makes a `CityActor`, and mypy refuses any
    other); this refuses code that got round them (a cast, an ``Any``) at run time too, before
    anything is read: a partner reads records only through the sharing gate."""
    if not isinstance(actor, CityActor):
        raise Forbidden("partners read arrest records only through the sharing gate")


def load_arrest(session: Session, actor: CityActor, arrest_id: uuid.UUID, *, for_update: bool = False) -> Arrest:
    city_only(actor)
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


def waiting(
    session: Session, statuses: Collection[str], *, arrested_before: datetime | None = None
) -> tuple[int, datetime | None]:
    """How many arrests wait in ``statuses`` (arrested before ``arrested_before``, when given),
    and the oldest one's arrest time: a worklist's count, with nothing of any record."""
    query = select(func.count(), func.min(Arrest.arrested_at)).where(Arrest.status.in_(list(statuses)))
    if arrested_before is not None:
        query = query.where(Arrest.arrested_at < arrested_before)
    count, oldest = session.execute(query).one()
    return int(count), oldest
