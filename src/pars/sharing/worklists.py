"""What waits for governance on its home page: agreement versions waiting for the agency's vote,
and suspensions its vote could lift."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from pars.actors import Actor, CityActor
from pars.permissions import Permission
from pars.settings import Settings
from pars.sharing.agreements import awaiting_decision
from pars.web.worklists import Worklist


def worklists(session: Session, actor: Actor, settings: Settings) -> Sequence[Worklist]:
    if not isinstance(actor, CityActor) or not actor.may(Permission.GOVERN_AGREEMENTS):
        return []
    votes, lifts = awaiting_decision(session, actor)
    urgent = f"{lifts} suspended, waiting for your vote to lift" if lifts else None
    return [Worklist("Agreements waiting for your agency's vote", "/agreements", votes, urgent)]
