"""The home page's worklists (issue 15): each role opens PARS on what waits for it, with counts
("3 waiting for a charging decision, oldest 5.2 hours"), not a bare list of links.

The web shell knows no feature, so each feature lists its own (`records.worklists`,
`sharing.worklists`, `oversight.worklists`) and the app hands them to the home page as
`app.state.worklists`. A source returns nothing for a user whose roles it does not serve.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from pars.actors import Actor
from pars.settings import Settings


@dataclass(frozen=True)
class Worklist:
    """One list on the home page: `count` things wait at `path`; `urgent` (when any) says in
    words which need attention first ("2 overdue"), and `detail` adds context ("oldest 5.2 hours")."""

    label: str
    path: str
    count: int
    urgent: str | None = None
    detail: str | None = None


Source = Callable[[Session, Actor, Settings], Sequence[Worklist]]


def gather(sources: Sequence[Source], session: Session, actor: Actor, settings: Settings) -> list[Worklist]:
    return [item for source in sources for item in source(session, actor, settings)]
