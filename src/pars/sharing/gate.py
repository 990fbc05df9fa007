"""The one gate every partner-bound record passes through (DESIGN principle 1, CONTRACT §7).

At the instant of the request it finds the agreement version in force, checks channel, purpose,
case reference and quota, filters scope in SQL, projects each record to the granted fields, and
writes the disclosure (or the refusal) to the audit trail in the request's transaction. No other
code serialises a record for a partner.

Order matters: the grant is found before any record is fetched, and a record outside scope is
indistinguishable from a missing one (404), so a refusal never reveals that a record exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pars.audit import AuditAction, record_disclosure
from pars.audit.models import AuditEntry
from pars.auth.principal import Actor
from pars.clock import now
from pars.errors import Forbidden, NotFound, Refusal, TooManyRequests
from pars.pagination import Page
from pars.records.models import Arrest
from pars.records.search import SEARCH_PARAMETERS, SearchQuery, page_arrests, where_filters
from pars.records.serialize import arrest_record
from pars.sharing.grants import Grant, grant_in_force
from pars.sharing.vocabulary import Channel, Refused

# A partner search must name a person or a case, never sweep (CONTRACT §7).
IDENTIFYING_PARAMETERS = frozenset({"sid", "ppn", "tracking_number", "incident_number", "docket_number"})
QUERY_ACTIONS = (AuditAction.ARREST_READ, AuditAction.ARREST_SEARCH)


@dataclass(frozen=True)
class PartnerRequest:
    """What a partner states with its request (headers PARS-Purpose, PARS-Case-Reference)."""

    purpose: str | None
    case_reference: str | None
    channel: Channel = Channel.QUERY


@dataclass(frozen=True)
class _Attempt:
    """One partner request on its way through the gate, for naming it in refusals."""

    action: AuditAction
    request: PartnerRequest
    target: str | None = None

    def refusal(self, reason: Refused, grant: Grant | None = None, **extra: Any) -> Refusal:
        """The audit entry of a refusal: why, under which agreement, what the partner stated."""
        details: dict[str, Any] = {"reason": str(reason)}
        if grant is not None:
            details |= {"agreement_id": str(grant.agreement_id), "agreement_version": grant.version}
        request = self.request
        details |= {
            "purpose": request.purpose,
            "case_reference": request.case_reference,
            "channel": str(request.channel),
        }
        return Refusal(self.action, self.target, details | extra)

    def forbidden(self, reason: Refused, message: str, grant: Grant | None = None, **extra: Any) -> Forbidden:
        return Forbidden(message, refusal=self.refusal(reason, grant, **extra))


def authorise(session: Session, actor: Actor, attempt: _Attempt, *, zone: ZoneInfo) -> Grant:
    """The grant under which this request may be answered, or a refusal (403/429) that says why."""
    assert actor.agency_code is not None
    request, instant = attempt.request, now(session)
    grant = grant_in_force(session, actor.agency_code, instant)
    if grant is None:
        message = f"agency {actor.agency_code} has no data-sharing agreement in force"
        raise attempt.forbidden(Refused.NO_AGREEMENT, message)
    if request.channel == Channel.QUERY and grant.daily_query_limit is not None:
        _check_quota(session, actor.agency_code, grant, attempt, zone=zone, instant=instant)
    if request.channel not in grant.channels:
        raise attempt.forbidden(Refused.CHANNEL, f"the agreement does not allow the {request.channel} channel", grant)
    if request.purpose is None or request.purpose not in grant.purposes:
        message = f"PARS-Purpose must be one of the agreement's purposes: {', '.join(sorted(grant.purposes))}"
        raise attempt.forbidden(Refused.PURPOSE, message, grant)
    if grant.require_case_reference and not (request.case_reference or "").strip():
        raise attempt.forbidden(Refused.CASE_REFERENCE, "the agreement requires a PARS-Case-Reference header", grant)
    return grant


def _check_quota(
    session: Session, agency: str, grant: Grant, attempt: _Attempt, *, zone: ZoneInfo, instant: datetime
) -> None:
    """Get and search requests of the agency since midnight, city time, refused ones included.

    The audit trail is the count: every partner query leaves exactly one entry there."""
    assert grant.daily_query_limit is not None
    local = instant.astimezone(zone)
    midnight = datetime.combine(local.date(), time(0), tzinfo=zone)
    used = session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.agency == agency, AuditEntry.action.in_(QUERY_ACTIONS), AuditEntry.at >= midnight)
    )
    if (used or 0) >= grant.daily_query_limit:
        next_midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
        raise TooManyRequests(
            f"the agreement allows {grant.daily_query_limit} queries a day; try again after midnight",
            retry_after=max(1, int((next_midnight - instant).total_seconds())),
            refusal=attempt.refusal(Refused.QUOTA, grant, limit=grant.daily_query_limit),
        )


def read(
    session: Session, actor: Actor, arrest_id: uuid.UUID, request: PartnerRequest, *, zone: ZoneInfo
) -> dict[str, Any]:
    attempt = _Attempt(AuditAction.ARREST_READ, request, str(arrest_id))
    grant = authorise(session, actor, attempt, zone=zone)
    arrest = session.scalars(select(Arrest).where(Arrest.id == arrest_id, grant.scope.condition())).first()
    if arrest is None:
        # Missing, sealed and out of scope are one answer: the partner learns nothing.
        raise NotFound("no such arrest", refusal=attempt.refusal(Refused.OUT_OF_SCOPE, grant))
    _disclose(session, actor, grant, attempt, [arrest])
    return grant.project(arrest_record(arrest))


def search(
    session: Session, actor: Actor, query: SearchQuery, request: PartnerRequest, *, zone: ZoneInfo
) -> Page[dict[str, Any]]:
    attempt = _Attempt(AuditAction.ARREST_SEARCH, request)
    grant = authorise(session, actor, attempt, zone=zone)
    names = set(query.filters)
    ungranted = sorted(p for p in names if (field := SEARCH_PARAMETERS[p]) is not None and field not in grant.fields)
    if ungranted:
        message = f"the agreement does not grant the fields needed to search by {', '.join(ungranted)}"
        raise attempt.forbidden(Refused.PARAMETER, message, grant, parameters=ungranted)
    names_a_person = "last_name" in names and bool({"dob", "first_name"} & names)
    if not (names_a_person or IDENTIFYING_PARAMETERS & names):
        message = (
            "a partner search names a last name with a date of birth or first name, or one of "
            "sid, ppn, tracking_number, incident_number, docket_number"
        )
        raise attempt.forbidden(Refused.TOO_BROAD, message, grant, parameters=sorted(names))
    in_scope = where_filters(select(Arrest).where(grant.scope.condition()), query.filters)
    page = page_arrests(session, in_scope, limit=query.limit, cursor=query.cursor, newest_first=True)
    _disclose(session, actor, grant, attempt, page.items)
    return Page([grant.project(arrest_record(a)) for a in page.items], page.next_cursor)


def _disclose(session: Session, actor: Actor, grant: Grant, attempt: _Attempt, arrests: list[Arrest]) -> None:
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
    )
