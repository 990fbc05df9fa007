"""What waits for the city's roles, for their home page: arrests waiting for a charging decision
(charging), cases waiting for arraignment and how many are overdue (magistrates), and people
waiting to be released or committed (booking). Counts only: no record is read, so nothing here
is a disclosure to audit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from pars.actors import Actor, CityActor
from pars.clock import now
from pars.permissions import Permission
from pars.records.repository import waiting
from pars.records.schemas import Status
from pars.settings import Settings
from pars.web.worklists import Worklist


def _oldest(instant: datetime, oldest: datetime | None) -> str | None:
    if oldest is None:
        return None
    return f"oldest waiting {(instant - oldest).total_seconds() / 3600:.1f} hours since arrest"


def worklists(session: Session, actor: Actor, settings: Settings) -> Sequence[Worklist]:
    if not isinstance(actor, CityActor):
        return []
    instant = now(session)
    found: list[Worklist] = []
    if actor.may(Permission.DECIDE_CHARGES):
        count, oldest = waiting(session, [Status.BOOKED])
        found.append(Worklist("Waiting for a charging decision", "/charging", count, None, _oldest(instant, oldest)))
    if actor.may(Permission.READ_DOCKET):
        count, oldest = waiting(session, [Status.CHARGES_APPROVED])
        sla = timedelta(hours=settings.arraignment_sla_hours)
        late, _ = waiting(session, [Status.CHARGES_APPROVED], arrested_before=instant - sla)
        urgent = f"{late} overdue (more than {settings.arraignment_sla_hours:g} hours)" if late else None
        found.append(Worklist("Waiting for arraignment", "/docket", count, urgent, _oldest(instant, oldest)))
    if actor.may(Permission.RELEASE) or actor.may(Permission.COMMIT):
        count, oldest = waiting(session, [Status.CHARGES_DECLINED, Status.ARRAIGNED])
        found.append(Worklist("Waiting to be released or committed", "/custody", count, None, _oldest(instant, oldest)))
    return found
