"""Request dependencies: the unit of work, the caller, and the checks every route shares."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPBearer
from sqlalchemy.orm import Session

from pars.api import idempotency
from pars.pagination import DEFAULT_LIMIT, MAX_LIMIT
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
    with unit_of_work(
        state.session_factory,
        state.clock,
        policy=state.checkpoint_policy,
        hand_over=partial(idempotency.hand_over, request),
    ) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def documented(
    model: type[Any], status: int = 200, *, errors: dict[int | str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Route options for a response that is built as a dict (records are projected per caller,
    so members may be absent): the model documents the shape without validating each reply.
    ``errors``: statuses the service adds to those derived for every route (`pars.api.openapi.also`)."""
    return {"response_model": None, "responses": {status: {"model": model}, **(errors or {})}}
