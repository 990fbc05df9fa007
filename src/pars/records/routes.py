"""Arrest processing over HTTP (CONTRACT §5): booking, the workflow steps and the docket, for
city users only (`require_city`). Reading arrests, which partners do too, is
`pars.sharing.arrest_routes`: records knows nothing of the gate."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from pars.actors import CityActor
from pars.api.deps import API_PREFIX, Cursor, Limit, SessionDep, end_work, get_settings
from pars.auth.deps import require_city
from pars.pagination import DEFAULT_LIMIT, parse_limit
from pars.permissions import Permission
from pars.records import intake, search, workflow
from pars.records.numbers import display_tracking_number
from pars.records.record import ArrestRecord, DocketItem, DocketPage
from pars.records.schemas import ArraignmentIn, ArrestIn, ChargingDecisionIn, CommitmentIn, ReleaseIn, SealIn
from pars.records.serialize import arrest_record, booked_record, charge_object, name_object
from pars.settings import Settings

router = APIRouter(prefix=API_PREFIX, tags=["arrests"])

SettingsDep = Annotated[Settings, Depends(get_settings)]


@router.post("/arrests", status_code=201, response_model=ArrestRecord)
def book_arrest(
    body: ArrestIn, session: SessionDep, actor: Annotated[CityActor, Depends(require_city(Permission.CREATE_ARREST))]
) -> Response:
    """The unit of work ends here (`end_work`), in this thread, as soon as the rows are
    written: on SQLite the write lock is let go before the answer is made. The record is then
    built (and validated) once, from the values written (`booked_record`: no ORM objects,
    nothing read back), and written as JSON here, as FastAPI would write the returned model:
    returned as a `Response`, it is not validated again in another hand-off to the thread pool.
    A request with an `Idempotency-Key` still commits with its stored answer, once it exists."""
    booking = intake.book(session, actor, body)
    end_work(session)
    record = booked_record(booking)
    return Response(record.model_dump_json(by_alias=True), status_code=201, media_type="application/json")


@router.post("/arrests/{arrest_id}/charging-decision")
def charging_decision(
    arrest_id: uuid.UUID,
    body: ChargingDecisionIn,
    session: SessionDep,
    settings: SettingsDep,
    actor: Annotated[CityActor, Depends(require_city(Permission.DECIDE_CHARGES))],
) -> ArrestRecord:
    return arrest_record(workflow.record_charging_decision(session, actor, arrest_id, body, zone=settings.zone))


@router.post("/arrests/{arrest_id}/arraignment")
def arraignment(
    arrest_id: uuid.UUID,
    body: ArraignmentIn,
    session: SessionDep,
    actor: Annotated[CityActor, Depends(require_city(Permission.ARRAIGN))],
) -> ArrestRecord:
    return arrest_record(workflow.record_arraignment(session, actor, arrest_id, body))


@router.post("/arrests/{arrest_id}/commitment")
def commitment(
    arrest_id: uuid.UUID,
    body: CommitmentIn,
    session: SessionDep,
    actor: Annotated[CityActor, Depends(require_city(Permission.COMMIT))],
) -> ArrestRecord:
    return arrest_record(workflow.record_commitment(session, actor, arrest_id, body))


@router.post("/arrests/{arrest_id}/release")
def release(
    arrest_id: uuid.UUID,
    body: ReleaseIn,
    session: SessionDep,
    actor: Annotated[CityActor, Depends(require_city(Permission.RELEASE))],
) -> ArrestRecord:
    return arrest_record(workflow.record_release(session, actor, arrest_id, body))


@router.post("/arrests/{arrest_id}/seal")
def seal(
    arrest_id: uuid.UUID,
    body: SealIn,
    session: SessionDep,
    actor: Annotated[CityActor, Depends(require_city(Permission.SEAL))],
) -> ArrestRecord:
    return arrest_record(workflow.seal_arrest(session, actor, arrest_id, body))


@router.get("/dockets/arraignment")
def arraignment_docket(
    session: SessionDep,
    settings: SettingsDep,
    actor: Annotated[CityActor, Depends(require_city(Permission.READ_DOCKET))],
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> DocketPage:
    """Waiting for preliminary arraignment, oldest arrest first; `overdue` past the SLA."""
    page = search.arraignment_docket(
        session, actor, sla_hours=settings.arraignment_sla_hours, limit=parse_limit(limit), cursor=cursor
    )
    items = [
        DocketItem(
            arrest_id=e.arrest.id,
            tracking_number=display_tracking_number(e.arrest.tracking_number),
            name=name_object(e.arrest),
            arrested_at=e.arrest.arrested_at,
            hours_since_arrest=e.hours_since_arrest,
            overdue=e.overdue,
            charges=[charge_object(c) for c in e.arrest.charges],
        )
        for e in page.items
    ]
    return DocketPage(items=items, next_cursor=page.next_cursor)
