"""What waits for oversight on its home page: alerts not yet reviewed (the high-severity ones
first), and complaints without an outcome."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from pars.actors import Actor, CityActor
from pars.oversight.alerts import unreviewed
from pars.oversight.complaints import undecided
from pars.permissions import Permission
from pars.settings import Settings
from pars.web.worklists import Worklist


def worklists(session: Session, actor: Actor, settings: Settings) -> Sequence[Worklist]:
    if not isinstance(actor, CityActor):
        return []
    found: list[Worklist] = []
    if actor.may(Permission.REVIEW_ALERTS):
        count, high = unreviewed(session)
        urgent = f"{high} of high severity" if high else None
        found.append(Worklist("Alerts not yet reviewed", "/oversight/alerts?status=open", count, urgent))
    if actor.may(Permission.RECORD_COMPLAINTS):
        found.append(Worklist("Complaints without an outcome", "/oversight/complaints", undecided(session)))
    return found
