"""The complaint pages of oversight (issue 16 item 4): the list with the form to record one, and
one complaint with the form to set its outcome.

Each page calls the service behind the API route (`pars.oversight.complaints`), so reads and
changes are on the trail as the API's are, and each form passes the API's inbound models (no
control characters, the same lengths). Complainant and text are shown to oversight here and
nowhere else.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.actors import Actor
from pars.api.deps import SessionDep, get_settings
from pars.auth.models import Agency
from pars.auth.service import user_names
from pars.errors import DomainError, Invalid, NotFound
from pars.oversight import complaints
from pars.oversight.complaint_schemas import ComplaintIn, OutcomeIn
from pars.oversight.complaints import ComplaintFilter, ComplaintOutcome, NewComplaint
from pars.permissions import Permission
from pars.records.pages_forms import local_input, local_instant
from pars.settings import Settings
from pars.web.guard import Csrf, allowed, error_page
from pars.web.render import flash, page
from pars.work import refuse

router = APIRouter(include_in_schema=False)

SettingsDep = Annotated[Settings, Depends(get_settings)]
Reader = Annotated[Actor, Depends(allowed(Permission.READ_COMPLAINTS))]
Recorder = Annotated[Actor, Depends(allowed(Permission.RECORD_COMPLAINTS))]
PAGE_SIZE = 25
OUTCOME_LABELS = {
    "open": "Open: inquiry not finished",
    "substantiated": "Substantiated",
    "not_substantiated": "Not substantiated",
    "withdrawn": "Withdrawn by the complainant",
}
MESSAGES = {
    "complainant": "Say who complained (up to 400 characters, no control characters).",
    "text": "Write what the complaint says (up to 4000 characters).",
    "agency": "Choose the partner agency the complaint is about.",
    "received_at": "Give the day and time it was received (city time), not in the future.",
    "note": "Write a note (up to 4000 characters): what the inquiry found, or who withdrew it.",
    "outcome": "Choose one of the outcomes.",
}


def _partners(session: Session) -> list[Agency]:
    """The partner agencies (codes and names only, not audited as a read: the agreement pages
    show the same)."""
    return list(session.scalars(select(Agency).where(Agency.kind == "partner").order_by(Agency.code)))


def _field_errors(invalid: ValidationError) -> dict[str, str]:
    fields = {str(e["loc"][0]) if e["loc"] else "form" for e in invalid.errors()}
    return {f: MESSAGES.get(f, "is not valid") for f in fields}


def _domain_errors(error: DomainError) -> dict[str, str]:
    if isinstance(error, Invalid):
        return {e.field: MESSAGES.get(e.field, e.message) for e in error.errors}
    return {"form": error.detail}


def _list_page(
    request: Request,
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    agency: str = "",
    outcome: str = "",
    cursor: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    chosen = outcome if outcome in OUTCOME_LABELS else ""
    filters = ComplaintFilter(agency=agency or None, outcome=ComplaintOutcome(chosen) if chosen else None)
    found = complaints.list_complaints(
        session, actor, filters, zone=settings.zone, limit=PAGE_SIZE, cursor=cursor or None
    )
    more = None
    if found.next_cursor:
        more = "/oversight/complaints?" + urlencode({"agency": agency, "outcome": chosen, "cursor": found.next_cursor})
    context: dict[str, Any] = {
        "complaints": found.items,
        "names": user_names(session, [c.recorded_by for c in found.items]),
        "partners": _partners(session),
        "outcomes": OUTCOME_LABELS,
        "filters": {"agency": agency, "outcome": chosen},
        "next_page": more,
        "errors": errors or {},
        "values": values or {"received_at": ""},
    }
    return page(request, "oversight/complaints.html", context, status=status)


@router.get("/oversight/complaints")
def complaint_list(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Reader,
    agency: str = "",
    outcome: str = "",
    cursor: str = "",
) -> HTMLResponse:
    """Newest received first, by agency and outcome; the form to record one below."""
    return _list_page(request, session, settings, actor, agency=agency.strip().upper(), outcome=outcome, cursor=cursor)


@router.post("/oversight/complaints", dependencies=[Csrf])
def record(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Recorder,
    complainant: Annotated[str, Form()] = "",
    received_at: Annotated[str, Form()] = "",
    agency: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
) -> Response:
    values = {"complainant": complainant, "received_at": received_at, "agency": agency, "text": text}
    try:
        received = local_instant(received_at, settings.zone)
        body = ComplaintIn.model_validate(
            {"complainant": complainant, "received_at": received, "agency": agency, "text": text}
        )
    except ValidationError as invalid:
        return _list_page(request, session, settings, actor, errors=_field_errors(invalid), values=values, status=422)
    data = NewComplaint(complainant=body.complainant, received_at=body.received_at, agency=body.agency, text=body.text)
    try:
        complaint = complaints.record_complaint(session, actor, data)
    except DomainError as error:
        refuse(session, error)
        errors = _domain_errors(error)
        return _list_page(request, session, settings, actor, errors=errors, values=values, status=error.status)
    response = RedirectResponse(f"/oversight/complaints/{complaint.id}", status_code=303)
    flash(response, f"Complaint about {complaint.agency} recorded (open).")
    return response


def _complaint_page(
    request: Request,
    session: Session,
    settings: Settings,
    actor: Actor,
    complaint_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    complaint = complaints.get_complaint(session, actor, complaint_id)
    context = {
        "c": complaint,
        "names": user_names(session, [complaint.recorded_by, complaint.closed_by]),
        "outcomes": OUTCOME_LABELS,
        "received_input": local_input(complaint.received_at, settings.zone),
        "errors": errors or {},
        "values": values or {"outcome": complaint.outcome},
    }
    return page(request, "oversight/complaint.html", context, status=status)


@router.get("/oversight/complaints/{complaint_id}")
def complaint_detail(
    request: Request, session: SessionDep, settings: SettingsDep, actor: Reader, complaint_id: uuid.UUID
) -> HTMLResponse:
    return _complaint_page(request, session, settings, actor, complaint_id)


@router.post("/oversight/complaints/{complaint_id}/outcome", dependencies=[Csrf])
def outcome(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Recorder,
    complaint_id: uuid.UUID,
    outcome: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    values = {"outcome": outcome, "note": note}
    try:
        body = OutcomeIn.model_validate({"outcome": outcome, "note": note})
    except ValidationError as invalid:
        errors = _field_errors(invalid)
        return _complaint_page(
            request, session, settings, actor, complaint_id, errors=errors, values=values, status=422
        )
    try:
        complaints.set_outcome(session, actor, complaint_id, outcome=body.outcome, note=body.note)
    except DomainError as error:
        refuse(session, error)
        if isinstance(error, NotFound):
            return error_page(request, error.status, error.title, error.detail)
        errors = _domain_errors(error)
        return _complaint_page(
            request, session, settings, actor, complaint_id, errors=errors, values=values, status=error.status
        )
    response = RedirectResponse(f"/oversight/complaints/{complaint_id}", status_code=303)
    flash(response, f"Outcome set: {OUTCOME_LABELS[str(body.outcome)]}.")
    return response
