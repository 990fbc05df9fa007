"""The query channel (CONTRACT §7): a partner reads one record or searches, under the agreement
in force at this instant.

Order matters: the grant is found before any record is fetched, and a record outside scope is
indistinguishable from a missing one (404), so a refusal never reveals that a record exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from pars.actors import PartnerActor
from pars.audit import AuditAction, record_disclosure
from pars.errors import NotFound
from pars.pagination import Page, encode_cursor
from pars.records.models import Arrest
from pars.records.record import SharedRecord
from pars.records.search import SEARCH_PARAMETERS, SearchQuery, page_arrests, where_filters
from pars.records.serialize import arrest_record
from pars.sharing import cases
from pars.sharing.cases import CaseStanding
from pars.sharing.gate.core import Attempt, PartnerRequest, authorise_query
from pars.sharing.gate.counting import (
    IDENTIFYING_PARAMETERS,
    PERSON_BOUNDS,
    counts,
    persons,
    refuse_ambiguous,
    refuse_several,
    several,
)
from pars.sharing.gate.subject import search_details
from pars.sharing.grants import Grant
from pars.sharing.vocabulary import Refused


def read(
    session: Session, actor: PartnerActor, arrest_id: uuid.UUID, request: PartnerRequest, *, zone: ZoneInfo
) -> SharedRecord:
    attempt = Attempt(AuditAction.ARREST_READ, request, str(arrest_id))
    grant, case = authorise_query(session, actor, attempt, zone=zone)
    _check_case(attempt, grant, case)
    arrest = session.scalars(select(Arrest).where(Arrest.id == arrest_id, grant.scope.condition())).first()
    if arrest is None:
        # Missing, sealed and out of scope are one answer: the partner learns nothing.
        raise NotFound("no such arrest", refusal=attempt.refusal(Refused.OUT_OF_SCOPE, grant))
    _disclose(session, actor, grant, attempt, [arrest], _case_details(session, case, [arrest]))
    return grant.project(arrest_record(arrest))


def search(
    session: Session, actor: PartnerActor, query: SearchQuery, request: PartnerRequest, *, zone: ZoneInfo
) -> Page[SharedRecord]:
    """A name search discloses one person or no one (CONTRACT §7): without an identifier
    parameter, matches of more than one person (in scope) are refused as ambiguous, found in
    SQL (`counting`) before any record is projected or disclosed: on the first page in the
    page's own statement, on a later page by a count before it."""
    details = search_details(session, query)
    attempt = Attempt(AuditAction.ARREST_SEARCH, request, details=details)
    grant, case = authorise_query(session, actor, attempt, zone=zone)
    names = set(query.filters)
    ungranted = sorted(p for p in names if (field := SEARCH_PARAMETERS[p]) is not None and field not in grant.fields)
    if ungranted:
        message = f"the agreement does not grant the fields needed to search by {', '.join(ungranted)}"
        # `parameters` here names the ungranted ones: what the probe asked for that it may not.
        raise attempt.forbidden(Refused.PARAMETER, message, grant, parameters=ungranted)
    names_a_person = "last_name" in names and bool({"dob", "first_name"} & names)
    if not (names_a_person or IDENTIFYING_PARAMETERS & names):
        message = (
            "a partner search names a last name with a date of birth or first name, or one of "
            "sid, ppn, tracking_number, incident_number, docket_number"
        )
        raise attempt.forbidden(Refused.TOO_BROAD, message, grant)
    _check_case(attempt, grant, case)
    in_scope = where_filters(select(Arrest).where(grant.scope.condition()), query.filters)
    if counts(names) and query.cursor is None:
        page = _first_page_counted(session, attempt, grant, in_scope, query.limit)
    else:
        refuse_ambiguous(session, attempt, grant, in_scope, names)
        page = page_arrests(session, in_scope, limit=query.limit, cursor=query.cursor, newest_first=True)
    _disclose(session, actor, grant, attempt, page.items, details | _case_details(session, case, page.items))
    return Page([grant.project(arrest_record(a)) for a in page.items], page.next_cursor)


def _first_page_counted(
    session: Session, attempt: Attempt, grant: Grant, in_scope: Select[Any], limit: int
) -> Page[Arrest]:
    """The first page of a name search (`page_arrests` without a cursor: newest first, a cursor
    when there is more), read with the least and greatest person over every match
    (`counting.PERSON_BOUNDS`) in one statement. A search that matched several people is refused
    before any of its rows is used, their number counted then for the refusal. Later pages count
    first (`refuse_ambiguous`): their cursor narrows the statement."""
    statement = in_scope.add_columns(*PERSON_BOUNDS).order_by(*_NEWEST_FIRST).limit(limit + 1)
    rows = session.execute(statement).all()
    if rows and several(rows[0][1:]):
        # Refused whatever the count says now: these rows hold several people (a change
        # committed in between could make a second statement count fewer).
        refuse_several(attempt, grant, max(2, persons(session, in_scope)))
    arrests = [row[0] for row in rows[:limit]]
    last = arrests[-1] if len(rows) > limit else None
    return Page(arrests, None if last is None else encode_cursor([last.arrested_at.isoformat(), str(last.id)]))


_NEWEST_FIRST = (Arrest.arrested_at.desc(), Arrest.id.desc())


def _check_case(attempt: Attempt, grant: Grant, case: CaseStanding | None) -> None:
    """``case``: the standing of the case the query names (`authorise_query`), None without a
    reference. Under an agreement that requires registered cases, a reference that names no open
    case of the agency (or none at all) is refused."""
    if grant.require_registered_case and (case is None or not case.registered):
        message = "the agreement requires PARS-Case-Reference to name an open case your agency registered"
        members = {"reason": str(Refused.UNREGISTERED_CASE)}
        raise attempt.forbidden(Refused.UNREGISTERED_CASE, message, grant, members=members)


def _case_details(session: Session, case: CaseStanding | None, arrests: Sequence[Arrest]) -> dict[str, Any]:
    """The ``case`` member of a disclosure's entry (COMMON audit details): only with a reference."""
    if case is None:
        return {}
    explained = case.registered and cases.explains(session, case, arrests)
    return {"case": {"registered": case.registered, "subjects": case.subjects, "explained": explained}}


def _disclose(
    session: Session,
    actor: PartnerActor,
    grant: Grant,
    attempt: Attempt,
    arrests: Sequence[Arrest],
    details: dict[str, Any] | None = None,
) -> None:
    request = attempt.request
    record_disclosure(
        session,
        actor,
        attempt.action,
        agreement_id=grant.agreement_id,
        agreement_version=grant.version,
        purpose=request.purpose or "",
        case_reference=request.case_reference,
        channel=str(request.channel),
        records=[(a.id, a.person_id) for a in arrests],
        fields=grant.disclosed_fields,
        details=details,
    )
