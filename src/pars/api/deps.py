"""Request dependencies: the unit of work, the caller, and the checks every route shares."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Any

from anyio import CancelScope, CapacityLimiter, to_thread
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

# Key in Session.info: the request's unit of work, until it has ended.
_WORK = "pars.api.work"

_bearer = HTTPBearer(auto_error=False, description="an API key issued by an administrator")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's one transaction (`pars.work.unit_of_work`): it commits when the route
    returns, before the response is sent; a failed request changes nothing but its refusal. A
    request that claimed an idempotency key commits a moment later, with its stored answer.

    Opening the unit of work makes a session object and nothing else (no connection, no
    statement), so it is done here in the event loop; its end (the commit, or the rollback and
    the refusal) talks to the database and runs in the thread pool, shielded from cancellation,
    as FastAPI runs a synchronous dependency's exit (`fastapi.concurrency.contextmanager_in_threadpool`).
    """
    state = request.app.state
    work = unit_of_work(
        state.session_factory,
        state.clock,
        policy=state.checkpoint_policy,
        hand_over=partial(idempotency.hand_over, request),
    )
    session = work.__enter__()
    session.info[_WORK] = work
    # A limiter of its own: the end never waits for a free worker thread (the pool's threads may
    # all be waiting for the connection this session holds).
    limiter = CapacityLimiter(1)
    try:
        yield session
    except BaseException as error:
        if session.info.pop(_WORK, None) is None:
            raise  # the route ended the unit of work itself (`end_work`), and that failed
        with CancelScope(shield=True):
            ended = await to_thread.run_sync(work.__exit__, type(error), error, error.__traceback__, limiter=limiter)
        if not ended:
            raise
    else:
        if session.info.pop(_WORK, None) is None:
            return  # ended by the route (`end_work`)
        with CancelScope(shield=True):
            await to_thread.run_sync(work.__exit__, None, None, None, limiter=limiter)


def end_work(session: Session) -> None:
    """Ends the request's unit of work now, in the calling thread, as `get_session` would a
    moment later: it commits (or hands the transaction to the idempotency middleware), or on an
    error rolls back and records the refusal, and raises. For a synchronous route whose answer
    is built and that has nothing left to do: its commit then runs in the thread that did the
    work rather than in another hand-off to the thread pool, so on SQLite the write lock is let
    go sooner. The session must not be used afterwards."""
    work = session.info.pop(_WORK)
    work.__exit__(None, None, None)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def documented(
    model: type[Any], status: int = 200, *, errors: dict[int | str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Route options for a response that is built as a dict (records are projected per caller,
    so members may be absent): the model documents the shape without validating each reply.
    ``errors``: statuses the service adds to those derived for every route (`pars.api.openapi.also`)."""
    return {"response_model": None, "responses": {status: {"model": model}, **(errors or {})}}
