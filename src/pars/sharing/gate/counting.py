"""A search by name discloses one person or no one (CONTRACT §7): whether a partner search
matches more than one person in scope, found in SQL (every match, not only the page) before any
record is projected or disclosed, and how many for the refusal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, String, cast, distinct, func
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


# The least and greatest person among every match of a statement over arrests, as window
# columns: computed over all the rows the statement matches, before its ORDER BY and LIMIT, so
# the first page of a search says whether it matched more than one person (`several`) in the
# same statement and scan. As text: PostgreSQL has no min() of a uuid.
PERSON_BOUNDS = (
    func.min(cast(Arrest.person_id, String)).over(),
    func.max(cast(Arrest.person_id, String)).over(),
)


def several(bounds: Sequence[Any]) -> bool:
    """Whether the `PERSON_BOUNDS` of a row say that its statement matched more than one person."""
    least, greatest = bounds
    return bool(least != greatest)


def counts(names: set[str]) -> bool:
    """Whether a search by these parameters must be refused when it matches several people."""
    return not IDENTIFYING_PARAMETERS & names


def refuse_ambiguous(session: Session, attempt: Attempt, grant: Grant, in_scope: Select[Any], names: set[str]) -> None:
    """Without an identifier parameter, matches of more than one person are refused (403,
    reason ``ambiguous``, with the number of persons), asking for a date of birth or an identifier."""
    if counts(names):
        refuse_several(attempt, grant, persons(session, in_scope))


def refuse_several(attempt: Attempt, grant: Grant, found: int) -> None:
    """The refusal of `refuse_ambiguous` for ``found`` persons counted."""
    if found > 1:
        message = (
            f"{found} different people match this search, so no one is disclosed: add a date of birth "
            "or an identifier (sid, ppn, tracking_number, incident_number, docket_number)"
        )
        reason = {"reason": str(Refused.AMBIGUOUS), "persons": found}
        raise attempt.forbidden(Refused.AMBIGUOUS, message, grant, members=reason, persons=found)


_DISTINCT_PERSONS = func.count(distinct(Arrest.person_id))
