"""A search by name discloses one person or no one (CONTRACT §7): the distinct persons a
partner search matches in scope, counted in SQL before any record is read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ScalarSelect, Select, distinct, func
from sqlalchemy.orm import Session

from pars.records.models import Arrest
from pars.sharing.gate.core import Attempt
from pars.sharing.grants import Grant
from pars.sharing.vocabulary import Refused

# A partner search must name a person or a case, never sweep (CONTRACT §7); one naming a case
# or an identifier may return the arrests of more than one person.
IDENTIFYING_PARAMETERS = frozenset({"sid", "ppn", "tracking_number", "incident_number", "docket_number"})


def persons(session: Session, in_scope: Select[Any]) -> int:
    """The distinct persons whose arrests ``in_scope`` (a select of arrests) matches."""
    return session.scalar(in_scope.with_only_columns(_DISTINCT_PERSONS)) or 0


def persons_column(in_scope: Select[Any]) -> ScalarSelect[int]:
    """`persons` as a column of another statement (the first page of the same search, one round
    trip): uncorrelated, so it counts every match, not the page, and runs once per statement."""
    return in_scope.with_only_columns(_DISTINCT_PERSONS).correlate(None).scalar_subquery()


def counts(names: set[str]) -> bool:
    """Whether a search by these parameters must be refused when it matches several people."""
    return not IDENTIFYING_PARAMETERS & names


def refuse_ambiguous(session: Session, attempt: Attempt, grant: Grant, in_scope: Select[Any], names: set[str]) -> None:
    """Without an identifier parameter, matches of more than one person are refused (403,
    reason ``ambiguous``, with the number of persons), asking for a date of birth or an identifier."""
    if counts(names):
        refuse_several(attempt, grant, persons(session, in_scope))


def refuse_several(attempt: Attempt, grant: Grant, found: int) -> None:
    """The refusal of `refuse_ambiguous` for ``found`` persons counted (by `persons_column`)."""
    if found > 1:
        message = (
            f"{found} different people match this search, so no one is disclosed: add a date of birth "
            "or an identifier (sid, ppn, tracking_number, incident_number, docket_number)"
        )
        reason = {"reason": str(Refused.AMBIGUOUS), "persons": found}
        raise attempt.forbidden(Refused.AMBIGUOUS, message, grant, members=reason, persons=found)


_DISTINCT_PERSONS = func.count(distinct(Arrest.person_id))
