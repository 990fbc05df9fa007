"""The work lists and every workflow step after booking (issues 7 and 15): the charging queue,
the arraignment docket and the custody worklist are lists; each case has one page of its own for
its step, with its own address:

- `/charging/{id}`: the charging decision (the ADA's);
- `/docket/{id}`: the preliminary arraignment (the magistrate's);
- `/custody/{id}`: commitment to a facility or release (booking's).

Each page's form posts to the page's own address; an error shows that page again there, with the
form as sent, an error summary at the top in page order and each message beside its field. A step
someone else took first (or a case in another state) is told in words: which case, who acted and
when. The record page's forms of old posted to `/arrests/{id}/<step>`; those addresses send the
browser on to the case page (307 keeps the method and the form). Sealing stays on the record page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pars.actors import CityActor
from pars.api.deps import SessionDep, get_settings
from pars.audit import AuditAction, record_event
from pars.auth import deps as checks
from pars.clock import now
from pars.errors import DomainError, Invalid
from pars.pagination import Page
from pars.permissions import Permission
from pars.records import codes, history, search, workflow
from pars.records.models import Arrest
from pars.records.numbers import display_tracking_number
from pars.records.pages_forms import (
    ALL_GRADES,
    BAIL_TYPES,
    BAIL_WORDS,
    DECISIONS,
    STATUS_WORDS,
    ChargeRow,
    Errors,
    charge_rows,
    charges_payload,
    field_errors,
    in_page_order,
    local_input,
    local_instant,
    optional,
    row_errors,
    validation_errors,
)
from pars.records.pages_read import Failed, render_record
from pars.records.repository import city_only
from pars.records.schemas import ArraignmentIn, ChargingDecisionIn, CommitmentIn, ReleaseIn, SealIn, Status
from pars.records.search import DocketEntry
from pars.records.serialize import arrest_record
from pars.settings import Settings
from pars.web.guard import Csrf, allowed_city
from pars.web.render import flash, page
from pars.work import refuse

router = APIRouter(include_in_schema=False)

SettingsDep = Annotated[Settings, Depends(get_settings)]
Charging = Annotated[CityActor, Depends(allowed_city(Permission.DECIDE_CHARGES))]
Magistrate = Annotated[CityActor, Depends(allowed_city(Permission.ARRAIGN))]
Docket = Annotated[CityActor, Depends(allowed_city(Permission.READ_DOCKET))]
Committer = Annotated[CityActor, Depends(allowed_city(Permission.COMMIT))]
Releaser = Annotated[CityActor, Depends(allowed_city(Permission.RELEASE))]
Sealer = Annotated[CityActor, Depends(allowed_city(Permission.SEAL))]
QUEUE_SIZE = 50
OTHER_REASON = "other"
CONFLICT = 409

# Each form's fields in the order the page shows them: its error summary lists errors so.
DECISION_FIELDS = ("decision", "charge_*", "notes")
ARRAIGNMENT_FIELDS = ("held_at", "bail_type", "bail_amount", "next_hearing_at", "conditions")
COMMITMENT_FIELDS = ("facility",)
RELEASE_FIELDS = ("released_at", "reason", "reason_other")
DECIDED = {"approved": "charges approved", "modified": "charges modified and approved", "declined": "charges declined"}


def _entries(entries: Sequence[DocketEntry]) -> list[dict[str, Any]]:
    return [
        {"record": arrest_record(e.arrest).model_dump(mode="json"), "hours": e.hours_since_arrest, "overdue": e.overdue}
        for e in entries
    ]


def _next(request: Request, found: Page[Any]) -> str | None:
    return f"{request.url.path}?cursor={found.next_cursor}" if found.next_cursor else None


def _otn(arrest: Arrest) -> str:
    return display_tracking_number(arrest.tracking_number)


def _bail_words(arrest: Arrest) -> str:
    bail = str(arrest.bail_type or "")
    return BAIL_WORDS.get(bail, bail)


# --- the lists ----------------------------------------------------------------------------------


@router.get("/charging")
def charging_queue(request: Request, session: SessionDep, actor: Charging, cursor: str | None = None) -> HTMLResponse:
    found = search.charging_queue(session, actor, limit=QUEUE_SIZE, cursor=cursor)
    context = {"entries": _entries(found.items), "next_page": _next(request, found)}
    return page(request, "records/charging.html", context)


@router.get("/docket")
def docket(
    request: Request, session: SessionDep, settings: SettingsDep, actor: Docket, cursor: str | None = None
) -> HTMLResponse:
    found = search.arraignment_docket(
        session, actor, sla_hours=settings.arraignment_sla_hours, limit=QUEUE_SIZE, cursor=cursor
    )
    context = {
        "entries": _entries(found.items),
        "sla_hours": settings.arraignment_sla_hours,
        "next_page": _next(request, found),
    }
    return page(request, "records/docket.html", context)


def custody_actor(actor: Committer) -> CityActor:
    """The custody worklist is for those who both commit and release (booking)."""
    return checks.allowed_city(actor, Permission.RELEASE, page=True)


Custodian = Annotated[CityActor, Depends(custody_actor)]
AWAITING_CUSTODY = (Status.CHARGES_DECLINED, Status.ARRAIGNED)


@router.get("/custody")
def custody_worklist(
    request: Request, session: SessionDep, actor: Custodian, cursor: str | None = None
) -> HTMLResponse:
    """Arrests waiting for booking's last step: released after charges were declined, committed
    or released after arraignment. Oldest arrest first."""
    city_only(actor)
    query = select(Arrest).where(Arrest.status.in_([str(s) for s in AWAITING_CUSTODY]))
    found = search.page_arrests(session, query, limit=QUEUE_SIZE, cursor=cursor, newest_first=False)
    counts = dict(
        session.execute(
            select(Arrest.status, func.count())
            .where(Arrest.status.in_([str(s) for s in AWAITING_CUSTODY]))
            .group_by(Arrest.status)
        ).all()
    )
    record_event(
        session, actor, AuditAction.ARREST_SEARCH, None, {"parameters": ["status"], "results": len(found.items)}
    )
    instant = now(session)
    entries = [
        {"record": arrest_record(a).model_dump(mode="json"),
         "hours": round((instant - a.arrested_at).total_seconds() / 3600, 1)}
        for a in found.items
    ]  # fmt: skip
    context = {
        "entries": entries,
        "declined": counts.get(str(Status.CHARGES_DECLINED), 0),
        "arraigned": counts.get(str(Status.ARRAIGNED), 0),
        "next_page": _next(request, found),
        "bail_words": BAIL_WORDS,
    }
    return page(request, "records/custody.html", context)


# --- who did what, in words -----------------------------------------------------------------------


def _when(at: datetime, settings: Settings) -> str:
    shown = (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(settings.zone)
    return f"{shown:%H:%M} on {shown.day} {shown:%B}"


def _by(step: history.Step, settings: Settings) -> str:
    who = step.user or "PARS (system)"
    agency = f" ({step.agency})" if step.agency else ""
    return f"by {who}{agency} at {_when(step.at, settings)}"


def conflict_words(session: Session, arrest: Arrest, step: str, settings: Settings) -> str:  # noqa: PLR0911
    """Why `step` is not open for this arrest: the step that closed it, who took it and when."""
    otn = _otn(arrest)
    steps = {s.action: s for s in history.record_history(session, arrest.id)}  # the latest of each
    decided = steps.get(str(AuditAction.ARREST_CHARGING_DECISION))
    arraigned = steps.get(str(AuditAction.ARREST_ARRAIGNMENT))
    committed = steps.get(str(AuditAction.ARREST_COMMITMENT))
    released = steps.get(str(AuditAction.ARREST_RELEASE))
    if step == "decision" and decided is not None:
        outcome = DECIDED.get(str(decided.details.get("decision")), "decided")
        return f"{otn} was already decided: {outcome} {_by(decided, settings)}."
    if step == "arraignment":
        if arraigned is not None:
            return f"{otn} was already arraigned {_by(arraigned, settings)}."
        if arrest.status == Status.BOOKED:
            return f"{otn} cannot be arraigned yet: it is still waiting for a charging decision."
        if decided is not None and arrest.status == Status.CHARGES_DECLINED:
            return f"{otn} will not be arraigned: charges declined {_by(decided, settings)}."
    if step in ("commitment", "release", "custody"):
        if released is not None:
            return f"{otn} was already released {_by(released, settings)}."
        if committed is not None and step != "release":
            facility = committed.details.get("facility") or "a facility"
            return f"{otn} was already committed to {facility} {_by(committed, settings)}."
        if arrest.status in (Status.BOOKED, Status.CHARGES_APPROVED):
            return f"{otn} is not ready for commitment or release: it is {STATUS_WORDS[arrest.status]}."
    return f"This step is not open for {otn}: it is {STATUS_WORDS.get(arrest.status, 'in another state')}."


# --- the case pages -------------------------------------------------------------------------------

OPEN = {
    "decision": (Status.BOOKED,),
    "arraignment": (Status.CHARGES_APPROVED,),
    "custody": (Status.CHARGES_DECLINED, Status.ARRAIGNED, Status.COMMITTED),
}
TEMPLATES = {
    "decision": "records/case.html",
    "arraignment": "records/case.html",
    "custody": "records/custody_case.html",
}


def render_case(
    request: Request,
    session: Session,
    actor: CityActor,
    arrest_id: uuid.UUID,
    step: str,
    failed: Failed | None = None,
) -> HTMLResponse:
    """One case's page for `step`: the case, and its form (or why the step is not open)."""
    settings: Settings = request.app.state.settings
    arrest = search.read_arrest(session, actor, arrest_id)
    record = arrest_record(arrest)
    conflict = None
    if arrest.status not in OPEN[step] or (failed is not None and failed.status == CONFLICT):
        conflict = conflict_words(session, arrest, failed.form if failed else step, settings)
    errors: Errors = dict(failed.errors) if failed else {}
    if conflict is not None and failed is not None and failed.status == CONFLICT:
        errors["form"] = conflict
    rows = failed.rows if failed and failed.rows else charge_rows(
        [c.statute for c in record.charges if c.status != "declined"],
        [c.grade for c in record.charges if c.status != "declined"],
        [str(c.counts) for c in record.charges if c.status != "declined"],
    )  # fmt: skip
    context = {
        "record": record.model_dump(mode="json"),
        "step": step,
        "form": failed.form if failed else None,
        "values": failed.values if failed else {},
        "errors": errors,
        "rows": rows,
        "conflict": conflict,
        "hours": round((now(session) - arrest.arrested_at).total_seconds() / 3600, 1),
        "overdue": now(session) - arrest.arrested_at > timedelta(hours=settings.arraignment_sla_hours),
        "decisions": DECISIONS,
        "all_grades": " ".join(ALL_GRADES),
        "bail_types": [(b, BAIL_WORDS.get(b, b)) for b in BAIL_TYPES],
        "bail_words": BAIL_WORDS,
        "facilities": codes.FACILITIES,
        "reasons": codes.RELEASE_REASONS,
        "default_now": local_input(now(session), settings.zone),
    }
    return page(request, TEMPLATES[step], context, status=failed.status if failed else 200)


@router.get("/charging/{arrest_id}")
def decision_page(request: Request, session: SessionDep, actor: Charging, arrest_id: uuid.UUID) -> HTMLResponse:
    return render_case(request, session, actor, arrest_id, "decision")


@router.get("/docket/{arrest_id}")
def arraignment_page(request: Request, session: SessionDep, actor: Magistrate, arrest_id: uuid.UUID) -> HTMLResponse:
    return render_case(request, session, actor, arrest_id, "arraignment")


@router.get("/custody/{arrest_id}")
def custody_page(request: Request, session: SessionDep, actor: Custodian, arrest_id: uuid.UUID) -> HTMLResponse:
    return render_case(request, session, actor, arrest_id, "custody")


def _step(
    request: Request,
    session: Session,
    actor: CityActor,
    arrest_id: uuid.UUID,
    *,
    form: str,
    page_step: str,
    model: type[BaseModel],
    body: dict[str, Any],
    values: dict[str, str],
    fields: Sequence[str],
    back: str,
    run: Callable[[Any], Arrest],
    done: Callable[[Arrest], str],
    rows: list[ChargeRow] | None = None,
    origin: Sequence[int] = (),
    early: Errors | None = None,
) -> Response:
    """Validate, call the service, and redirect to the list with a notice; or show the case
    page again with the errors (all of them at once, in page order)."""
    failed = Failed(form=form, arrest_id=str(arrest_id), values=values, rows=rows or [])
    try:
        validated = model.model_validate(body)
        arrest = None if early else run(validated)
    except ValidationError as error:
        failed.errors = {**(early or {}), **validation_errors(error, origin)}
    except Invalid as error:
        refuse(session, error)
        failed.errors = {**(early or {}), **field_errors(error.errors, origin)}
    except DomainError as error:
        if error.status in {403, 404}:  # not this form's business: the error page
            raise
        refuse(session, error)
        failed.errors, failed.status = {}, error.status
    else:
        if arrest is not None:
            response = RedirectResponse(back, status_code=303)
            flash(response, done(arrest))
            return response
        failed.errors = dict(early or {})
    failed.errors = in_page_order(failed.errors, fields)
    return render_case(request, session, actor, arrest_id, page_step, failed)


@router.post("/charging/{arrest_id}", dependencies=[Csrf])
def decide(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Charging,
    arrest_id: uuid.UUID,
    decision: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "",
    charge_statute: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    charge_grade: Annotated[list[str], Form()] = [],  # noqa: B006
    charge_counts: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    rows = charge_rows(charge_statute, charge_grade, charge_counts, minimum=0)
    values = {"decision": decision, "notes": notes}
    if action:  # "Add a charge" or a row's "Remove" without JavaScript: the same page, rows changed
        verb, _, index = action.partition("-")
        if verb == "add":
            rows.append(ChargeRow())
        elif verb == "remove" and index.isdigit() and int(index) < len(rows):
            del rows[int(index)]
        failed = Failed(form="decision", arrest_id=str(arrest_id), values=values, rows=rows or [ChargeRow()])
        failed.status = 200
        return render_case(request, session, actor, arrest_id, "decision", failed)
    charges, origin, early = charges_payload(rows)
    modified = decision == "modified"
    if modified:
        early = {**row_errors(rows), **early}
    body = {
        "decision": optional(decision),
        "notes": optional(notes),
        "charges": (charges or None) if modified else None,
    }

    def done(arrest: Arrest) -> str:
        if arrest.docket_number:
            return f"Charges {arrest.charging_decision} for {_otn(arrest)}: docket number {arrest.docket_number}."
        return f"Charges declined for {_otn(arrest)}; the release is booking's next step."

    return _step(
        request, session, actor, arrest_id, form="decision", page_step="decision", model=ChargingDecisionIn,
        body=body, values=values, fields=DECISION_FIELDS, back="/charging", rows=rows or [ChargeRow()],
        origin=origin, early=early,
        run=lambda d: workflow.record_charging_decision(session, actor, arrest_id, d, zone=settings.zone), done=done,
    )  # fmt: skip


@router.post("/docket/{arrest_id}", dependencies=[Csrf])
def arraign(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Magistrate,
    arrest_id: uuid.UUID,
    held_at: Annotated[str, Form()] = "",
    bail_type: Annotated[str, Form()] = "",
    bail_amount: Annotated[str, Form()] = "",
    conditions: Annotated[str, Form()] = "",
    next_hearing_at: Annotated[str, Form()] = "",
) -> Response:
    values = {"held_at": held_at, "bail_type": bail_type, "bail_amount": bail_amount, "conditions": conditions,
              "next_hearing_at": next_hearing_at}  # fmt: skip
    body = {
        "held_at": local_instant(held_at, settings.zone),
        "bail_type": optional(bail_type),
        "bail_amount": optional(bail_amount.replace(",", "").replace("$", "").strip()),
        "conditions": optional(conditions),
        "next_hearing_at": local_instant(next_hearing_at, settings.zone),
    }
    return _step(
        request, session, actor, arrest_id, form="arraignment", page_step="arraignment", model=ArraignmentIn,
        body=body, values=values, fields=ARRAIGNMENT_FIELDS, back="/docket",
        run=lambda a: workflow.record_arraignment(session, actor, arrest_id, a),
        done=lambda arrest: f"Arraigned {_otn(arrest)} ({_bail_words(arrest)} bail).",
    )  # fmt: skip


@router.post("/custody/{arrest_id}", dependencies=[Csrf])
def custody_step(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Custodian,
    arrest_id: uuid.UUID,
    step: Annotated[str, Form()] = "",
    facility: Annotated[str, Form()] = "",
    released_at: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    reason_other: Annotated[str, Form()] = "",
) -> Response:
    step = step or request.query_params.get("step", "")
    if step == "commitment":
        return _step(
            request, session, actor, arrest_id, form="commitment", page_step="custody", model=CommitmentIn,
            body={"facility": optional(facility)}, values={"facility": facility}, fields=COMMITMENT_FIELDS,
            back="/custody", run=lambda c: workflow.record_commitment(session, actor, arrest_id, c),
            done=lambda arrest: f"{_otn(arrest)} committed to {arrest.facility}.",
        )  # fmt: skip
    early: Errors = {}
    given = reason_other if reason == OTHER_REASON else reason
    if reason == OTHER_REASON and not reason_other.strip():
        early["reason_other"] = "Enter the reason for the release"
    body = {"released_at": local_instant(released_at, settings.zone), "reason": optional(given)}
    return _step(
        request, session, actor, arrest_id, form="release", page_step="custody", model=ReleaseIn, body=body,
        values={"released_at": released_at, "reason": reason, "reason_other": reason_other}, fields=RELEASE_FIELDS,
        back="/custody", early=early, run=lambda r: workflow.record_release(session, actor, arrest_id, r),
        done=lambda arrest: f"{_otn(arrest)} released ({arrest.release_reason}).",
    )  # fmt: skip


# The record page's old form addresses: on to the case page, with the form (307 keeps the POST).


@router.post("/arrests/{arrest_id}/charging-decision", dependencies=[Csrf])
def decide_moved(arrest_id: uuid.UUID, actor: Charging) -> Response:
    return RedirectResponse(f"/charging/{arrest_id}", status_code=307)


@router.post("/arrests/{arrest_id}/arraignment", dependencies=[Csrf])
def arraign_moved(arrest_id: uuid.UUID, actor: Magistrate) -> Response:
    return RedirectResponse(f"/docket/{arrest_id}", status_code=307)


@router.post("/arrests/{arrest_id}/commitment", dependencies=[Csrf])
def commit_moved(arrest_id: uuid.UUID, actor: Custodian) -> Response:
    return RedirectResponse(f"/custody/{arrest_id}?step=commitment", status_code=307)


@router.post("/arrests/{arrest_id}/release", dependencies=[Csrf])
def release_moved(arrest_id: uuid.UUID, actor: Custodian) -> Response:
    return RedirectResponse(f"/custody/{arrest_id}?step=release", status_code=307)


@router.post("/arrests/{arrest_id}/seal", dependencies=[Csrf])
def seal(
    request: Request,
    session: SessionDep,
    actor: Sealer,
    arrest_id: uuid.UUID,
    order_ref: Annotated[str, Form()] = "",
) -> Response:
    failed = Failed(form="seal", arrest_id=str(arrest_id), values={"order_ref": order_ref})
    try:
        arrest = workflow.seal_arrest(
            session, actor, arrest_id, SealIn.model_validate({"order_ref": optional(order_ref)})
        )
    except ValidationError as error:
        failed.errors = validation_errors(error)
    except Invalid as error:
        refuse(session, error)
        failed.errors = field_errors(error.errors)
    except DomainError as error:
        if error.status in {403, 404}:
            raise
        refuse(session, error)
        failed.errors, failed.status = {"form": error.detail[:1].upper() + error.detail[1:] + "."}, error.status
    else:
        response = RedirectResponse(f"/arrests/{arrest.id}", status_code=303)
        flash(response, f"{_otn(arrest)} sealed under order {arrest.seal_order_ref}; partners must delete it.")
        return response
    return render_record(request, session, actor, arrest_id, failed)
