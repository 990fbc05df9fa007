"""What every path through the gate shares: what a partner states with its request, the
attempt named in refusals, and `authorise`, which finds the grant in force at this instant or
refuses (403/429) saying why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from pars.actors import PartnerActor
from pars.audit import AuditAction
from pars.clock import now
from pars.errors import Forbidden, Refusal, TooManyRequests
from pars.sharing.cases import STANDING_COLUMNS, CaseStanding, standing_of
from pars.sharing.gate.quota import FOLLOWING, QUERIES
from pars.sharing.grants import AGREEMENTS_OF, Grant, grant_among
from pars.sharing.vocabulary import Channel, Refused


@dataclass(frozen=True)
class PartnerRequest:
    """What a partner states with its request (headers PARS-Purpose, PARS-Case-Reference)."""

    purpose: str | None
    case_reference: str | None
    channel: Channel = Channel.QUERY


@dataclass(frozen=True)
class Attempt:
    """One partner request on its way through the gate, for naming it in refusals. ``details``
    go into every refusal of it too (a search's parameter names and subject)."""

    action: AuditAction
    request: PartnerRequest
    target: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

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
        return Refusal(self.action, self.target, details | dict(self.details) | extra)

    def forbidden(
        self,
        reason: Refused,
        message: str,
        grant: Grant | None = None,
        *,
        members: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> Forbidden:
        """``members`` go into the problem body, for the partner to act on (public values only)."""
        return Forbidden(message, refusal=self.refusal(reason, grant, **extra), members=members)


def purpose_refused(attempt: Attempt, grant: Grant) -> Forbidden:
    message = f"PARS-Purpose must be one of the agreement's purposes: {', '.join(sorted(grant.purposes))}"
    return attempt.forbidden(Refused.PURPOSE, message, grant)


# The agency's agreements (id, revision), then in the same round trip, when wanted: its queries
# since the count this process remembers (`quota.FOLLOWING`), and the standing of the case the
# query names (`cases.STANDING_COLUMNS`). Keyed by (quota, case); built once.
_STATEMENTS = {
    (quota, named): AGREEMENTS_OF.add_columns(*(FOLLOWING if quota else ()), *(STANDING_COLUMNS if named else ()))
    for quota in (False, True)
    for named in (False, True)
}
_AGREEMENT_COLUMNS = len(AGREEMENTS_OF.selected_columns)


def authorise(session: Session, actor: PartnerActor, attempt: Attempt, *, zone: ZoneInfo) -> Grant:
    """The grant under which this request may be answered, or a refusal (403/429) that says why.

    The agreement's revision is read on every request (a suspension or expiry decided on another
    node stops the very next one); with it, when this process already counted the agency's day,
    the queries since that count, so the quota stays exact at no extra round trip."""
    return _authorise(session, actor, attempt, zone=zone, reference="")[0]


def authorise_query(
    session: Session, actor: PartnerActor, attempt: Attempt, *, zone: ZoneInfo
) -> tuple[Grant, CaseStanding | None]:
    """`authorise`, and the standing of the case the query's PARS-Case-Reference names (None
    without one), read in the same statement as the agreement."""
    reference = (attempt.request.case_reference or "").strip()
    grant, row = _authorise(session, actor, attempt, zone=zone, reference=reference)
    return grant, (standing_of(row[-len(STANDING_COLUMNS) :]) if reference else None)


def _authorise(
    session: Session, actor: PartnerActor, attempt: Attempt, *, zone: ZoneInfo, reference: str
) -> tuple[Grant, Sequence[Any]]:
    """`authorise`, with the row of the statement it read (the case's columns last, if ``reference``)."""
    agency = actor.agency_code
    assert agency is not None
    request, instant = attempt.request, now(session)
    midnight = _midnight(instant, zone)
    known = QUERIES.remembered(agency, midnight) if request.channel == Channel.QUERY else None
    parameters: dict[str, Any] = {"agency": agency, "reference": reference}
    if known is not None:
        parameters |= QUERIES.parameters(agency, midnight, known)
    # Core tables only: on the session's connection (its transaction), without the ORM's
    # execution path, which costs more than the statement on every partner request.
    rows = session.connection().execute(_STATEMENTS[known is not None, bool(reference)], parameters).all()
    grant = grant_among(session, rows, instant)
    if grant is None:
        message = f"agency {agency} has no data-sharing agreement in force"
        raise attempt.forbidden(Refused.NO_AGREEMENT, message)
    # Bring the remembered count up to date even under an agreement without a limit, so that
    # the range it reads stays the entries since the last request.
    looked = None if known is None else (known, rows[0][_AGREEMENT_COLUMNS : _AGREEMENT_COLUMNS + len(FOLLOWING)])
    if looked is not None or (request.channel == Channel.QUERY and grant.daily_query_limit is not None):
        used = QUERIES.used(session, agency, midnight, looked=looked)
        if grant.daily_query_limit is not None:
            _check_quota(grant, attempt, used, zone=zone, instant=instant)
    if request.channel not in grant.channels:
        raise attempt.forbidden(Refused.CHANNEL, f"the agreement does not allow the {request.channel} channel", grant)
    if request.purpose is None or request.purpose not in grant.purposes:
        raise purpose_refused(attempt, grant)
    # A case reference names the case a query serves; a feed has no case, so it applies to queries only.
    needs_case = request.channel == Channel.QUERY and grant.require_case_reference
    if needs_case and not (request.case_reference or "").strip():
        raise attempt.forbidden(Refused.CASE_REFERENCE, "the agreement requires a PARS-Case-Reference header", grant)
    return grant, rows[0]


def _midnight(instant: datetime, zone: ZoneInfo) -> datetime:
    """The start of the instant's day, city time: the quota counts queries since then."""
    return datetime.combine(instant.astimezone(zone).date(), time(0), tzinfo=zone)


def _check_quota(grant: Grant, attempt: Attempt, used: int, *, zone: ZoneInfo, instant: datetime) -> None:
    """``used``: get and search requests of the agency since midnight, city time, refused ones
    included. The audit trail is the count: every partner query leaves exactly one entry there."""
    assert grant.daily_query_limit is not None
    if used >= grant.daily_query_limit:
        next_midnight = datetime.combine(instant.astimezone(zone).date() + timedelta(days=1), time(0), tzinfo=zone)
        raise TooManyRequests(
            f"the agreement allows {grant.daily_query_limit} queries a day; try again after midnight",
            retry_after=max(1, int((next_midnight - instant).total_seconds())),
            refusal=attempt.refusal(Refused.QUOTA, grant, limit=grant.daily_query_limit),
        )
