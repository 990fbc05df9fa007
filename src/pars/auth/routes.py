from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from pars.actors import Actor
from pars.api.deps import API_PREFIX, Cursor, Limit, SessionDep
from pars.auth import service
from pars.auth.deps import require
from pars.auth.models import Agency, User
from pars.auth.schemas import AgencyIn, AgencyOut, AgencyPage, NewUserOut, UserIn
from pars.pagination import DEFAULT_LIMIT, parse_limit
from pars.permissions import Permission, Role

router = APIRouter(prefix=API_PREFIX, tags=["principals"])

Admin = Annotated[Actor, Depends(require(Permission.MANAGE_PRINCIPALS))]
Anyone = Annotated[Actor, Depends(require(Permission.LIST_AGENCIES))]


def agency_out(agency: Agency) -> AgencyOut:
    return AgencyOut.model_validate(agency, from_attributes=True)


@router.post("/agencies", status_code=201, response_model=AgencyOut)
def create_agency(body: AgencyIn, session: SessionDep, actor: Admin) -> AgencyOut:
    return agency_out(service.create_agency(session, actor, body))


@router.get("/agencies", response_model=AgencyPage)
def list_agencies(
    session: SessionDep, actor: Anyone, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> AgencyPage:
    page = service.list_agencies(session, actor, limit=parse_limit(limit), cursor=cursor)
    return AgencyPage(items=[agency_out(a) for a in page.items], next_cursor=page.next_cursor)


@router.post("/users", status_code=201, response_model=NewUserOut)
def create_user(body: UserIn, session: SessionDep, actor: Admin) -> NewUserOut:
    user, key = service.create_user(session, actor, body)
    return _user_out(user, key)


def _user_out(user: User, key: str) -> NewUserOut:
    return NewUserOut(
        id=user.id, agency=user.agency.code, name=user.name, roles=[Role(r) for r in user.roles], api_key=key
    )


@router.delete("/users/{user_id}/api-key", status_code=204)
def revoke_api_key(user_id: uuid.UUID, session: SessionDep, actor: Admin) -> Response:
    service.revoke_keys(session, actor, user_id)
    return Response(status_code=204)
