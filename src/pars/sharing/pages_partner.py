"""The partner pages (issue 7 item 7): search and read records under the agency's agreement.

Everything a partner sees here comes out of the sharing gate (`gate.search`, `gate.read`), as
through `GET /api/v1/arrests`: the same purpose and case-reference rules, the same quota, the
same audit entries and refusals. The pages only choose which fields to *offer* (those the
agreement in force grants, never a protected one) and render the projected records generically:
a member absent from a record is absent from the page, and nothing else is looked up.

Searches are POSTed: names and birth dates stay out of URLs, browser history and access logs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from pars.actors import Actor, PartnerActor
from pars.api.deps import SessionDep, get_settings
from pars.clock import now
from pars.errors import DomainError, FieldError, Invalid, NotFound, TooManyRequests
from pars.inputs import header_text_problem
from pars.permissions import Permission
from pars.records.fields import ALWAYS_PRESENT, INSTANTS, LABELS
from pars.records.schemas import Status
from pars.records.search import SEARCH_PARAMETERS, SearchQuery, check_parameter_names
from pars.settings import Settings
from pars.sharing import agreements, case_lookups, gate
from pars.sharing.gate import PartnerRequest
from pars.sharing.grants import Grant, compile_agreement, grant_in_force
from pars.sharing.models import Agreement
from pars.sharing.pages_forms import said
from pars.sharing.standing import AgreementState, standing_of
from pars.sharing.vocabulary import Channel, Refused
from pars.web.guard import Csrf, allowed_partner, error_page
from pars.web.render import page
from pars.work import refuse

router = APIRouter(include_in_schema=False)

# Partner pages: a partner whose roles let it read records, and only through the gate.
Partner = Annotated[PartnerActor, Depends(allowed_partner(Permission.READ_RECORDS))]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PAGE_SIZE = 25


@dataclass(frozen=True)
class SearchField:
    name: str  # the search parameter (CONTRACT §5)
    label: str
    kind: str = "text"  # the input type; "status" is a select
    hint: str = ""


# In the order the form shows them. Only those whose field the agreement grants are offered.
SEARCH_FIELDS = (
    SearchField("last_name", "Last name"),
    SearchField("first_name", "First name"),
    SearchField("dob", "Date of birth", "date"),
    SearchField("sid", "SID", hint="State identification number"),
    SearchField("ppn", "PPN", hint="Philadelphia photo number"),
    SearchField("tracking_number", "Tracking number", hint="Like N 917652-1"),
    SearchField("incident_number", "Incident (DC) number"),
    SearchField("docket_number", "Docket number", hint="Like MC-51-CR-0001234-2026"),
    SearchField("district", "Police district"),
    SearchField("arrested_from", "Arrested on or after", "date"),
    SearchField("arrested_to", "Arrested on or before", "date"),
    SearchField("status", "Status", "status"),
)
STATUSES = tuple(str(s) for s in Status)
# Form members that are not search parameters.
FORM_MEMBERS = frozenset({"csrf", "purpose", "case_reference", "cursor"})


# --- the agreement's standing ---------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """Why the agency has no agreement in force, and since when, for the page that says so."""

    state: str  # expired, suspended, terminated, not_yet, pending, none; feed_only (no searches)
    since: datetime | None = None
    title: str | None = None
    reason: str | None = None


def standing(session: Session, actor: Actor) -> Standing:
    """Read through the agreements service (a partner sees its own agency's only; the read is
    audited). The most recent agreement explains the state: an agency has at most one in force."""
    listed = agreements.listing(session, actor, limit=100, cursor=None).items
    if not listed:
        return Standing("none")
    instant = now(session)
    agreement = max(listed, key=lambda a: a.created_at)
    return _explain(agreement, instant)


# The partner page's words for the agreement's standing (`pars.sharing.standing`).
_SHOWN = {
    AgreementState.TERMINATED: "terminated",
    AgreementState.SUSPENDED: "suspended",
    AgreementState.APPROVED: "not_yet",
    AgreementState.EXPIRED: "expired",
    AgreementState.PROPOSED: "pending",
    AgreementState.REJECTED: "pending",
}


def _explain(agreement: Agreement, instant: datetime) -> Standing:
    title = agreement.versions[-1].title if agreement.versions else None
    now_standing = standing_of(agreement, compile_agreement(agreement), instant)
    reason = {
        AgreementState.TERMINATED: agreement.termination_reason,
        AgreementState.SUSPENDED: agreement.suspension_reason,
    }.get(now_standing.state)
    # In force but searches refused: the grant has no query channel (the caller says feed_only).
    shown = _SHOWN.get(now_standing.state, "feed_only")
    return Standing(shown, now_standing.since, title, reason)


def _not_in_force(request: Request, session: Session, actor: Actor, shown: Standing | None = None) -> HTMLResponse:
    return page(request, "partner/not_in_force.html", {"standing": shown or standing(session, actor)}, status=403)


def _grant(session: Session, actor: Actor) -> Grant | None:
    """The version in force now, as the gate will find it: only to build the form."""
    assert actor.agency_code is not None
    return grant_in_force(session, actor.agency_code, now(session))


# --- search ---------------------------------------------------------------------------------


def _open_cases(session: Session, actor: Actor, grant: Grant) -> list[str]:
    """The agency's open case references, offered as the case reference when the agreement
    requires a registered case."""
    if not grant.require_registered_case:
        return []
    assert actor.agency_code is not None
    return case_lookups.open_references(session, actor.agency_code)


def _offered(grant: Grant) -> list[SearchField]:
    return [f for f in SEARCH_FIELDS if (needs := SEARCH_PARAMETERS[f.name]) is None or needs in grant.fields]


def _form_context(
    grant: Grant, values: dict[str, str], errors: dict[str, str] | None = None, *, open_cases: list[str] | None = None
) -> dict[str, Any]:
    return {
        "open_cases": open_cases or [],
        "grant": grant,
        "fields": _offered(grant),
        "statuses": STATUSES,
        "values": values,
        "errors": errors or {},
        # How the record view names members (others by their key) and which it shows in city
        # time: both derived from the record's definition (`pars.records.record`).
        "labels": LABELS,
        "instants": INSTANTS,
        "always": ALWAYS_PRESENT,
    }


@router.get("/partner/search")
def search_form(request: Request, session: SessionDep, actor: Partner) -> HTMLResponse:
    grant = _grant(session, actor)
    if grant is None:
        return _not_in_force(request, session, actor)
    if Channel.QUERY not in grant.channels:  # a feed-only agreement: the gate would refuse every search
        return _not_in_force(request, session, actor, Standing("feed_only", grant.ends))
    return page(request, "partner/search.html", _form_context(grant, {}, open_cases=_open_cases(session, actor, grant)))


async def _posted_names(request: Request) -> list[str]:
    """Every member the form posted (the CSRF check has read the form already)."""
    return list((await request.form()).keys())


def _local_day(value: str, zone: ZoneInfo, *, after: bool) -> str:
    """A date typed into the form as the instant the API takes: the start of that city day, or
    (for "on or before") the start of the next one, which the search treats as exclusive."""
    day = date.fromisoformat(value) + timedelta(days=1 if after else 0)
    return datetime.combine(day, time(0), tzinfo=zone).isoformat()


def _query(values: dict[str, str], cursor: str, zone: ZoneInfo) -> SearchQuery:
    filters, errors = {}, []
    for name in SEARCH_PARAMETERS:
        value = values.get(name, "").strip()
        if not value:
            continue
        if name in ("arrested_from", "arrested_to"):
            try:
                value = _local_day(value, zone, after=name == "arrested_to")
            except ValueError:
                errors.append(FieldError(name, "enter a date, like 2026-03-18"))
                continue
        filters[name] = value
    if errors:
        raise Invalid(errors)
    return SearchQuery(filters=filters, limit=PAGE_SIZE, cursor=cursor or None)


@router.post("/partner/search", dependencies=[Csrf])
def search(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Partner,
    posted: Annotated[list[str], Depends(_posted_names)],
    purpose: Annotated[str, Form()] = "",
    case_reference: Annotated[str, Form()] = "",
    cursor: Annotated[str, Form()] = "",
    last_name: Annotated[str, Form()] = "",
    first_name: Annotated[str, Form()] = "",
    dob: Annotated[str, Form()] = "",
    sid: Annotated[str, Form()] = "",
    ppn: Annotated[str, Form()] = "",
    tracking_number: Annotated[str, Form()] = "",
    incident_number: Annotated[str, Form()] = "",
    docket_number: Annotated[str, Form()] = "",
    district: Annotated[str, Form()] = "",
    arrested_from: Annotated[str, Form()] = "",
    arrested_to: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "",
) -> HTMLResponse:
    values = {
        "purpose": purpose, "case_reference": case_reference, "last_name": last_name, "first_name": first_name,
        "dob": dob, "sid": sid, "ppn": ppn, "tracking_number": tracking_number, "incident_number": incident_number,
        "docket_number": docket_number, "district": district, "arrested_from": arrested_from,
        "arrested_to": arrested_to, "status": status,
    }  # fmt: skip
    try:
        stated = _stated(purpose or None, case_reference)
        # A crafted form naming a record field is a probe, refused and audited as the API does.
        check_parameter_names(set(posted) - FORM_MEMBERS, SEARCH_PARAMETERS.keys())
        query = _query(values, cursor, settings.zone)
        shared = gate.search(session, actor, query, stated, zone=settings.zone)
    except DomainError as error:

        def again(grant: Grant, refused: DomainError) -> HTMLResponse:
            ambiguous = refused.members.get("reason") == str(Refused.AMBIGUOUS)
            errors = {} if ambiguous else form_errors(refused)
            context = _form_context(grant, values, errors, open_cases=_open_cases(session, actor, grant))
            context["problem"] = None
            if refused.members.get("reason") == str(Refused.AMBIGUOUS):
                # Said in plain words, with the form as it was and the date of birth to fill in.
                context |= {"problem": None, "ambiguous": refused.members.get("persons")}
            return page(request, "partner/search.html", context, status=refused.status)

        return _refused(request, session, actor, error, again)
    grant = _grant(session, actor)
    if grant is None:  # it ended in the instant since the gate answered
        return _not_in_force(request, session, actor)
    context = _form_context(grant, values, open_cases=_open_cases(session, actor, grant))
    # Shown as the JSON the API sends: an ungranted member is absent, so the page cannot show it.
    results = [item.model_dump(mode="json") for item in shared.items]
    context |= {"results": results, "next_cursor": shared.next_cursor}
    return page(request, "partner/search.html", context)


def _refused(
    request: Request,
    session: SessionDep,
    actor: Actor,
    error: DomainError,
    again: Callable[[Grant, DomainError], HTMLResponse],
) -> HTMLResponse:
    """The gate's refusal stays on the trail as the gate wrote it (`pars.work.refuse`); the page
    says why: no agreement in force, the quota, or (`again`) the form once more with the reason."""
    refuse(session, error)
    if _no_agreement(error):
        return _not_in_force(request, session, actor)
    if isinstance(error, TooManyRequests):
        return _quota_page(request, session, error)
    grant = _grant(session, actor)
    if grant is None:
        return _not_in_force(request, session, actor)
    return again(grant, error)


# A refusal of the gate as the form says it: the field it is about ("" for the page) and the words.
_REFUSED_AT = {
    Refused.PURPOSE: ("purpose", "Choose the purpose of this search: one your agreement allows"),
    Refused.CASE_REFERENCE: ("case_reference", "Enter the case this search serves: your agreement requires one"),
    Refused.UNREGISTERED_CASE: (
        "case_reference",
        "Enter one of your agency's open registered cases: your agreement requires one",
    ),
    Refused.TOO_BROAD: (
        "last_name",
        "Give a last name with a date of birth or a first name, or one of the numbers "
        "(SID, PPN, tracking, incident or docket number)",
    ),
    Refused.CHANNEL: ("", "Your agency's agreement does not allow searches"),
    Refused.OUT_OF_SCOPE: ("", "No record under your agreement has this number"),
}


def form_errors(error: DomainError) -> dict[str, str]:
    """The refusal by form field, in the page's words (the trail keeps the gate's own)."""
    if isinstance(error, Invalid):
        return {e.field: said(e.message) for e in error.errors}
    reason = error.refusal.details.get("reason") if error.refusal is not None else None
    if reason in _REFUSED_AT:
        field, message = _REFUSED_AT[Refused(reason)]
        return {field: message}
    return {"": said(error.detail)}


def _no_agreement(error: DomainError) -> bool:
    return error.refusal is not None and error.refusal.details.get("reason") == str(Refused.NO_AGREEMENT)


def _quota_page(request: Request, session: Session, error: TooManyRequests) -> HTMLResponse:
    again = now(session) + timedelta(seconds=error.retry_after)
    hours, minutes = divmod(max(1, error.retry_after // 60), 60)
    context = {"detail": error.detail, "again": again, "wait": f"{hours} h {minutes} min"}
    response = page(request, "partner/quota.html", context, status=429)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def _stated(purpose: str | None, case_reference: str) -> PartnerRequest:
    """What the API takes as the PARS-Purpose and PARS-Case-Reference headers, with their limits."""
    reference = case_reference.strip() or None
    errors = [
        FieldError(name, problem)
        for name, value in (("purpose", purpose), ("case_reference", reference))
        if value is not None and (problem := header_text_problem(value))
    ]
    if errors:
        raise Invalid(errors)
    return PartnerRequest(purpose=purpose, case_reference=reference)


# --- one record -----------------------------------------------------------------------------


@router.get("/partner/arrests/{arrest_id}")
def record(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Partner,
    arrest_id: uuid.UUID,
    purpose: str = "",
    case_reference: str = "",
) -> HTMLResponse:
    """Read through the gate under the stated purpose (and case); without a purpose, the page
    asks for one first rather than send the gate a request it must refuse."""
    values = {"purpose": purpose, "case_reference": case_reference}
    if not purpose:
        grant = _grant(session, actor)
        if grant is None:
            return _not_in_force(request, session, actor)
        context = {"grant": grant, "values": values, "arrest_id": arrest_id, "errors": {},
                   "open_cases": _open_cases(session, actor, grant)}  # fmt: skip
        return page(request, "partner/record.html", context)
    try:
        stated = _stated(purpose, case_reference)
        shared = gate.read(session, actor, arrest_id, stated, zone=settings.zone)
    except DomainError as error:
        if isinstance(error, NotFound):  # missing and out of scope are one answer
            refuse(session, error)
            return error_page(request, error.status, error.title, error.detail)

        def again(grant: Grant, refused: DomainError) -> HTMLResponse:
            context = {"grant": grant, "values": values, "arrest_id": arrest_id, "errors": form_errors(refused),
                       "open_cases": _open_cases(session, actor, grant)}  # fmt: skip
            return page(request, "partner/record.html", context, status=refused.status)

        return _refused(request, session, actor, error, again)
    # Shown as the JSON the API sends: an ungranted member is absent, so the page cannot show it.
    context = {"record": shared.model_dump(mode="json"), "values": values, "arrest_id": arrest_id, "labels": LABELS,
               "instants": INSTANTS, "always": ALWAYS_PRESENT}  # fmt: skip
    return page(request, "partner/record.html", context)
