"""The standing of the case a partner query names (`pars.sharing.cases.standing`), as two
columns of the gate's agreement statement (`core.authorise_query`): one round trip less on every
query that names a case. It must agree with `cases.standing` (tests/sharing/test_cases.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, select

from pars.auth.models import Agency
from pars.sharing.cases import UNREGISTERED, CaseStanding
from pars.sharing.models import CaseSubject, RegisteredCase

# Core (table columns), like the rest of the gate's agreement statement.
_case, _subject, _agency = (cast(Table, m.__table__) for m in (RegisteredCase, CaseSubject, Agency))
# The agency's open case of that reference: at most one ((agency, reference) is unique).
_OPEN: ColumnElement[bool] = and_(
    _agency.c.id == _case.c.agency_id,
    _agency.c.code == bindparam("agency"),
    _case.c.reference == bindparam("reference"),
    _case.c.closed_at.is_(None),
)
# Its subject count (NULL: no such open case) and its subjects' "shape:digest" pairs, space
# separated (a shape is parts joined by "+", a digest hex: neither holds a space or a colon).
# Uncorrelated, so they never bind to the statement's own agencies row.
COLUMNS = (
    select(_case.c.subject_count).where(_OPEN).correlate(None).scalar_subquery(),
    select(func.aggregate_strings(_subject.c.shape + ":" + _subject.c.digest, " "))
    .where(_subject.c.case_id == _case.c.id, _OPEN)
    .correlate(None)
    .scalar_subquery(),
)


def standing(columns: Sequence[Any]) -> CaseStanding:
    """The `CaseStanding` of the two `COLUMNS` as read."""
    subjects, pairs = columns
    if subjects is None:
        return UNREGISTERED
    hashes = frozenset((shape, digest) for shape, _, digest in (pair.partition(":") for pair in (pairs or "").split()))
    return CaseStanding(registered=True, subjects=int(subjects), hashes=hashes)
