"""The work queues and every workflow step after booking (issue 7): the charging queue, the
arraignment docket, and the forms that decide charges, arraign, commit, release and seal.

Each step's form posts to `/arrests/{id}/<step>` from whichever page showed it (the queue, the
docket or the record page, named by the form's `back` field); on an error that same page is
shown again with the form as sent and the messages beside its fields.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from pars.actors import CityActor
from pars.api.deps import SessionDep, get_settings
from pars.clock import now
from pars.errors import DomainError, Invalid
from pars.pagination import Page
from pars.permissions import Permission
from pars.records import search, workflow
from pars.records.models import Arrest
from pars.records.numbers import display_tracking_number
from pars.records.pages_forms import (
    BAIL_TYPES,
    DECISIONS,
    ChargeRow,
    charge_rows,
    charges_payload,
    field_errors,
    local_input,
    local_instant,
    optional,
    validation_errors,
)
from pars.records.pages_read import Failed, render_record
from pars.records.schemas import ArraignmentIn, ChargingDecisionIn, CommitmentIn, ReleaseIn, SealIn
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
BACK = ("/charging", "/docket")


def _entries(entries: Sequence[DocketEntry]) -> list[dict[str, Any]]:
    return [
        {"record": arrest_record(e.arrest).model_dump(mode="json"), "hours": e.hours_since_arrest, "overdue": e.overdue}
        for e in entries
    ]


@router.get("/charging")
def charging_queue(request: Request, session: SessionDep, actor: Charging, cursor: str | None = None) -> HTMLResponse:
    return render_queue(request, session, actor, cursor)


def render_queue(
    request: Request, session: SessionDep, actor: CityActor, cursor: str | None = None, failed: Failed | None = None
) -> HTMLResponse:
    found = search.charging_queue(session, actor, limit=QUEUE_SIZE, cursor=cursor)
    entries = _entries(found.items)
    for entry in entries:
        charges = entry["record"]["charges"]
        rows = charge_rows(
            [c["statute"] for c in charges], [c["grade"] for c in charges], [str(c["counts"]) for c in charges]
        )
        entry["rows"] = [*rows, ChargeRow()]
    context = {"entries": entries, "failed": failed, "decisions": DECISIONS, "next_page": _next(request, found)}
    return page(request, "records/charging.html", context, status=failed.status if failed else 200)


@router.get("/docket")
def docket(
    request: Request, session: SessionDep, settings: SettingsDep, actor: Docket, cursor: str | None = None
) -> HTMLResponse:
    return render_docket(request, session, actor, settings, cursor)


def render_docket(
    request: Request,
    session: SessionDep,
    actor: CityActor,
    settings: Settings,
    cursor: str | None = None,
    failed: Failed | None = None,
) -> HTMLResponse:
    found = search.arraignment_docket(
        session, actor, sla_hours=settings.arraignment_sla_hours, limit=QUEUE_SIZE, cursor=cursor
    )
    context = {
        "entries": _entries(found.items),
        "failed": failed,
        "bail_types": BAIL_TYPES,
        "sla_hours": settings.arraignment_sla_hours,
        "default_now": local_input(now(session), settings.zone),
        "next_page": _next(request, found),
    }
    return page(request, "records/docket.html", context, status=failed.status if failed else 200)


def _next(request: Request, found: Page[Any]) -> str | None:
    return f"{request.url.path}?cursor={found.next_cursor}" if found.next_cursor else None


def _step(
    request: Request,
    session: SessionDep,
    actor: CityActor,
    arrest_id: uuid.UUID,
    *,
    form: str,
    model: type[BaseModel],
    body: dict[str, Any],
    values: dict[str, str],
    back: str,
    run: Callable[[Any], Arrest],
    done: Callable[[Arrest], str],
    rows: list[ChargeRow] | None = None,
    origin: Sequence[int] = (),
) -> Response:
    """Validate, call the service, and redirect with a notice; or show the form again."""
    failed = Failed(form=form, arrest_id=str(arrest_id), values=values, rows=rows or [])
    try:
        arrest = run(model.model_validate(body))
    except ValidationError as error:
        failed.errors = validation_errors(error, origin)
    except Invalid as error:
        refuse(session, error)
        failed.errors = field_errors(error.errors, origin)
    except DomainError as error:
        if error.status in {403, 404}:  # not this form's business: the error page
            raise
        refuse(session, error)
        failed.errors, failed.status = {"form": error.detail}, error.status
    else:
        target = back if back in BACK else f"/arrests/{arrest.id}"
        response = RedirectResponse(target, status_code=303)
        flash(response, done(arrest))
        return response
    if back == "/charging":
        return render_queue(request, session, actor, failed=failed)
    if back == "/docket":
        return render_docket(request, session, actor, request.app.state.settings, failed=failed)
    return render_record(request, session, actor, arrest_id, failed)


def _otn(arrest: Arrest) -> str:
    return display_tracking_number(arrest.tracking_number)


@router.post("/arrests/{arrest_id}/charging-decision", dependencies=[Csrf])
def decide(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Charging,
    arrest_id: uuid.UUID,
    decision: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
    charge_statute: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    charge_grade: Annotated[list[str], Form()] = [],  # noqa: B006
    charge_counts: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    rows = charge_rows(charge_statute, charge_grade, charge_counts)
    charges, origin, _ = charges_payload(rows)
    body = {
        "decision": optional(decision),
        "notes": optional(notes),
        "charges": (charges or None) if decision == "modified" else None,
    }

    def done(arrest: Arrest) -> str:
        if arrest.docket_number:
            return f"Charges {arrest.charging_decision} for {_otn(arrest)}: docket number {arrest.docket_number}."
        return f"Charges declined for {_otn(arrest)}; the release is booking's next step."

    return _step(
        request, session, actor, arrest_id, form="decision", model=ChargingDecisionIn, body=body,
        values={"decision": decision, "notes": notes}, back=back, rows=[*rows, ChargeRow()], origin=origin,
        run=lambda d: workflow.record_charging_decision(session, actor, arrest_id, d, zone=settings.zone), done=done,
    )  # fmt: skip


@router.post("/arrests/{arrest_id}/arraignment", dependencies=[Csrf])
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
    back: Annotated[str, Form()] = "",
) -> Response:
    values = {"held_at": held_at, "bail_type": bail_type, "bail_amount": bail_amount, "conditions": conditions,
              "next_hearing_at": next_hearing_at}  # fmt: skip
    body = {
        "held_at": local_instant(held_at, settings.zone),
        "bail_type": optional(bail_type),
        "bail_amount": optional(bail_amount.replace(",", "").removeprefix("$")),
        "conditions": optional(conditions),
        "next_hearing_at": local_instant(next_hearing_at, settings.zone),
    }
    return _step(
        request, session, actor, arrest_id, form="arraignment", model=ArraignmentIn, body=body, values=values,
        back=back, run=lambda a: workflow.record_arraignment(session, actor, arrest_id, a),
        done=lambda arrest: f"Arraigned {_otn(arrest)} ({arrest.bail_type} bail).",
    )  # fmt: skip


@router.post("/arrests/{arrest_id}/commitment", dependencies=[Csrf])
def commit(
    request: Request,
    session: SessionDep,
    actor: Committer,
    arrest_id: uuid.UUID,
    facility: Annotated[str, Form()] = "",
) -> Response:
    return _step(
        request, session, actor, arrest_id, form="commitment", model=CommitmentIn,
        body={"facility": optional(facility)}, values={"facility": facility}, back="",
        run=lambda c: workflow.record_commitment(session, actor, arrest_id, c),
        done=lambda arrest: f"{_otn(arrest)} committed to {arrest.facility}.",
    )  # fmt: skip


@router.post("/arrests/{arrest_id}/release", dependencies=[Csrf])
def release(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Releaser,
    arrest_id: uuid.UUID,
    released_at: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    body = {"released_at": local_instant(released_at, settings.zone), "reason": optional(reason)}
    return _step(
        request, session, actor, arrest_id, form="release", model=ReleaseIn, body=body,
        values={"released_at": released_at, "reason": reason}, back="",
        run=lambda r: workflow.record_release(session, actor, arrest_id, r),
        done=lambda arrest: f"{_otn(arrest)} released.",
    )  # fmt: skip


@router.post("/arrests/{arrest_id}/seal", dependencies=[Csrf])
def seal(
    request: Request,
    session: SessionDep,
    actor: Sealer,
    arrest_id: uuid.UUID,
    order_ref: Annotated[str, Form()] = "",
) -> Response:
    return _step(
        request, session, actor, arrest_id, form="seal", model=SealIn, body={"order_ref": optional(order_ref)},
        values={"order_ref": order_ref}, back="", run=lambda s: workflow.seal_arrest(session, actor, arrest_id, s),
        done=lambda arrest: f"{_otn(arrest)} sealed under order {arrest.seal_order_ref}; partners must delete it.",
    )  # fmt: skip
