"""Request dependencies: the unit of work, the caller, and the checks every route shares."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Annotated, Any

import structlog
from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from pars.api import idempotency
from pars.audit import AuditAction
from pars.auth.permissions import Permission
from pars.auth.principal import Actor
from pars.auth.service import authenticate
from pars.errors import BadRequest, Forbidden, Refusal
from pars.inputs import header_text_problem, text_problem
from pars.pagination import DEFAULT_LIMIT, MAX_LIMIT
from pars.records.search import check_parameter_names
from pars.settings import Settings
from pars.work import unit_of_work

API_PREFIX = "/api/v1"
PARTNER_HEADERS = ("PARS-Purpose", "PARS-Case-Reference")

# The paging parameters of every list (CONTRACT §2), declared once so the document states the rule.
Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"items per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})")
]
Cursor = Annotated[
    str | None,
    Query(description="the `next_cursor` of the previous page, as returned (opaque); without it, the first page"),
]

_bearer = HTTPBearer(auto_error=False, description="an API key issued by an administrator")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """The request's one transaction (`pars.work.unit_of_work`): it commits when the route
    returns, before the response is sent; a failed request changes nothing but its refusal. A
    request that claimed an idempotency key commits a moment later, with its stored answer."""
    state = request.app.state
    with unit_of_work(state.session_factory, state.clock, hand_over=partial(idempotency.hand_over, request)) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def current_actor(
    session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Actor:
    actor = authenticate(session, credentials.credentials if credentials else None)
    session.info["actor"] = actor
    structlog.contextvars.bind_contextvars(user=str(actor.user_id), agency=actor.agency_code)
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]


def require(permission: Permission) -> Callable[[Actor], Actor]:
    """Route-level authorisation by role; the resource-level check (the gate) is the service's."""

    def check(actor: ActorDep) -> Actor:
        if not actor.may(permission):
            raise Forbidden(
                f"your roles do not allow this ({permission})",
                refusal=Refusal(AuditAction.AUTH_DENIED, None, {"permission": str(permission)}),
            )
        return actor

    return check


async def api_request(request: Request, session: SessionDep, actor: ActorDep) -> None:
    """Every /api/v1 route, after authentication, before the route's own work: a query parameter
    the route does not declare is a 400, and one that names a record field a 403 probe (CONTRACT
    §5); a parameter or partner header with a control character, or a partner header over 64
    characters, is a 400 (§7); a POST with an `Idempotency-Key` claims it or gets its stored
    answer (§3)."""
    route = request.scope.get("route")
    declared = _query_names(route.dependant) if isinstance(route, APIRoute) else frozenset()
    check_parameter_names(request.query_params.keys(), declared)
    for name, value in request.query_params.multi_items():
        if problem := text_problem(value):
            raise BadRequest(f"query parameter {name}: {problem}")
    for header in PARTNER_HEADERS:
        given = request.headers.get(header)
        if given is not None and (problem := header_text_problem(given)):
            raise BadRequest(f"{header}: {problem}")
    if actor.user_id is not None:
        await idempotency.keyed(request, session, actor.user_id)


def _query_names(dependant: Dependant) -> frozenset[str]:
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return frozenset(names)


def documented(
    model: type[Any], status: int = 200, *, errors: dict[int | str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Route options for a response that is built as a dict (records are projected per caller,
    so members may be absent): the model documents the shape without validating each reply.
    ``errors``: statuses the service adds to those derived for every route (`pars.api.openapi.also`)."""
    return {"response_model": None, "responses": {status: {"model": model}, **(errors or {})}}
