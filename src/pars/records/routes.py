"""Arrest processing over HTTP (CONTRACT §5). City users get the record from the records
service; partners only ever through the sharing gate."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request

from pars.api.deps import API_PREFIX, Cursor, Limit, SessionDep, documented, get_settings, require
from pars.api.openapi import also
from pars.auth.permissions import Permission
from pars.auth.principal import Actor
from pars.pagination import DEFAULT_LIMIT, parse_limit
from pars.records import intake, search, workflow
from pars.records.models import Arrest
from pars.records.numbers import display_tracking_number
from pars.records.schemas import (
    ArraignmentIn,
    ArrestIn,
    ArrestPage,
    ArrestRecord,
    ChargingDecisionIn,
    CommitmentIn,
    DocketPage,
    ReleaseIn,
    SealIn,
)
from pars.records.serialize import arrest_record, charge_object, iso, name_object
from pars.settings import Settings
from pars.sharing import gate
from pars.sharing.gate import PartnerRequest

router = APIRouter(prefix=API_PREFIX, tags=["arrests"])

Reader = Annotated[Actor, Depends(require(Permission.READ_RECORDS))]
SettingsDep = Annotated[Settings, Depends(get_settings)]
Record = dict[str, Any]


def partner_headers(
    purpose: Annotated[
        str | None, Header(alias="PARS-Purpose", description="partners: one of the agreement's purposes")
    ] = None,
    case_reference: Annotated[
        str | None, Header(alias="PARS-Case-Reference", description="partners: the case the request serves")
    ] = None,
) -> PartnerRequest:
    return PartnerRequest(purpose=purpose, case_reference=case_reference)


PartnerHeaders = Annotated[PartnerRequest, Depends(partner_headers)]


def _record(arrest: Arrest) -> Record:
    return arrest_record(arrest)


@router.post("/arrests", status_code=201, **documented(ArrestRecord, 201))
def book_arrest(
    body: ArrestIn, session: SessionDep, actor: Annotated[Actor, Depends(require(Permission.CREATE_ARREST))]
) -> Record:
    return _record(intake.book_arrest(session, actor, body))


@router.get("/arrests", **documented(ArrestPage, errors=also(429)))
def search_arrests(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: Reader,
    partner: PartnerHeaders,
    last_name: str | None = None,
    first_name: str | None = None,
    dob: str | None = Query(None, description="YYYY-MM-DD"),
    sid: str | None = None,
    ppn: str | None = None,
    incident_number: str | None = None,
    docket_number: str | None = None,
    arrested_from: str | None = Query(None, description="ISO 8601 instant with offset, inclusive"),
    arrested_to: str | None = Query(None, description="ISO 8601 instant with offset, exclusive"),
    district: str | None = None,
    tracking_number: str | None = None,
    status: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Record:
    """Newest arrest first. Names match without regard to accents, case or spacing."""
    query = search.parse_search(request.query_params)
    if actor.is_partner:
        shared = gate.search(session, actor, query, partner, zone=settings.zone)
        return {"items": shared.items, "next_cursor": shared.next_cursor}
    page = search.search_arrests(session, actor, query)
    return {"items": [_record(a) for a in page.items], "next_cursor": page.next_cursor}


@router.get("/arrests/{arrest_id}", **documented(ArrestRecord, errors=also(429)))
def read_arrest(
    arrest_id: uuid.UUID, session: SessionDep, settings: SettingsDep, actor: Reader, partner: PartnerHeaders
) -> Record:
    """A partner receives the record only through the sharing gate, projected to its agreement."""
    if actor.is_partner:
        return gate.read(session, actor, arrest_id, partner, zone=settings.zone)
    return _record(search.read_arrest(session, actor, arrest_id))


@router.post("/arrests/{arrest_id}/charging-decision", **documented(ArrestRecord))
def charging_decision(
    arrest_id: uuid.UUID,
    body: ChargingDecisionIn,
    session: SessionDep,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(require(Permission.DECIDE_CHARGES))],
) -> Record:
    return _record(workflow.record_charging_decision(session, actor, arrest_id, body, zone=settings.zone))


@router.post("/arrests/{arrest_id}/arraignment", **documented(ArrestRecord))
def arraignment(
    arrest_id: uuid.UUID,
    body: ArraignmentIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Permission.ARRAIGN))],
) -> Record:
    return _record(workflow.record_arraignment(session, actor, arrest_id, body))


@router.post("/arrests/{arrest_id}/commitment", **documented(ArrestRecord))
def commitment(
    arrest_id: uuid.UUID,
    body: CommitmentIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Permission.COMMIT))],
) -> Record:
    return _record(workflow.record_commitment(session, actor, arrest_id, body))


@router.post("/arrests/{arrest_id}/release", **documented(ArrestRecord))
def release(
    arrest_id: uuid.UUID,
    body: ReleaseIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Permission.RELEASE))],
) -> Record:
    return _record(workflow.record_release(session, actor, arrest_id, body))


@router.post("/arrests/{arrest_id}/seal", **documented(ArrestRecord))
def seal(
    arrest_id: uuid.UUID,
    body: SealIn,
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Permission.SEAL))],
) -> Record:
    return _record(workflow.seal_arrest(session, actor, arrest_id, body))


@router.get("/dockets/arraignment", **documented(DocketPage))
def arraignment_docket(
    session: SessionDep,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(require(Permission.READ_DOCKET))],
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Record:
    """Waiting for preliminary arraignment, oldest arrest first; `overdue` past the SLA."""
    page = search.arraignment_docket(
        session, actor, sla_hours=settings.arraignment_sla_hours, limit=parse_limit(limit), cursor=cursor
    )
    items = [
        {
            "arrest_id": str(e.arrest.id),
            "tracking_number": display_tracking_number(e.arrest.tracking_number),
            "name": name_object(e.arrest.first_name, e.arrest.middle_name, e.arrest.last_name, e.arrest.suffix),
            "arrested_at": iso(e.arrest.arrested_at),
            "hours_since_arrest": e.hours_since_arrest,
            "overdue": e.overdue,
            "charges": [charge_object(c) for c in e.arrest.charges],
        }
        for e in page.items
    ]
    return {"items": items, "next_cursor": page.next_cursor}
