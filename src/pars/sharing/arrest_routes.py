"""Reading arrests over HTTP (CONTRACT §5), for city users and partners alike. The caller's type
decides the path: a `CityActor` reads through the records services, a `PartnerActor` only
through the sharing gate, projected to its agreement. There is no third way: the records
services refuse anything but a `CityActor` (mypy), and the gate takes only a `PartnerActor`.

The document says both: a city user receives an `ArrestRecord` (every member), a partner a
`SharedRecord` (the members its agreement grants; the others absent)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request

from pars.actors import AnyActor, PartnerActor
from pars.api.deps import API_PREFIX, Cursor, Limit, SessionDep, get_settings
from pars.api.openapi import also
from pars.auth.deps import require
from pars.pagination import DEFAULT_LIMIT
from pars.permissions import Permission
from pars.records import search
from pars.records.record import ArrestPage, ArrestRecord, SharedPage, SharedRecord
from pars.records.serialize import arrest_record
from pars.settings import Settings
from pars.sharing import gate
from pars.sharing.gate import PartnerRequest

router = APIRouter(prefix=API_PREFIX, tags=["arrests"])

Reader = Annotated[AnyActor, Depends(require(Permission.READ_RECORDS))]
SettingsDep = Annotated[Settings, Depends(get_settings)]


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


@router.get("/arrests", responses=also(429))
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
) -> ArrestPage | SharedPage:
    """Newest arrest first. Names match without regard to accents, case or spacing."""
    query = search.parse_search(request.query_params)
    if isinstance(actor, PartnerActor):
        shared = gate.search(session, actor, query, partner, zone=settings.zone)
        return SharedPage(items=shared.items, next_cursor=shared.next_cursor)
    page = search.search_arrests(session, actor, query)
    return ArrestPage(items=[arrest_record(a) for a in page.items], next_cursor=page.next_cursor)


@router.get("/arrests/{arrest_id}", responses=also(429))
def read_arrest(
    arrest_id: uuid.UUID, session: SessionDep, settings: SettingsDep, actor: Reader, partner: PartnerHeaders
) -> ArrestRecord | SharedRecord:
    """A partner receives the record only through the sharing gate, projected to its agreement."""
    if isinstance(actor, PartnerActor):
        return gate.read(session, actor, arrest_id, partner, zone=settings.zone)
    return arrest_record(search.read_arrest(session, actor, arrest_id))
