"""The ASGI application: API, health and metrics, built around one engine and one clock."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool

from pars import __version__
from pars.api import health, idempotency, openapi, problems
from pars.api.deps import PARTNER_HEADERS, SessionDep
from pars.api.health import Probe
from pars.api.metrics import Metrics, StoredGauge
from pars.api.middleware import Admission, BodyReader, RequestContext
from pars.audit.chain import CheckpointPolicy
from pars.audit.signing import load_signer
from pars.auth.deps import ActorDep
from pars.auth.routes import router as principals_router
from pars.clock import Clock, SystemClock
from pars.db import Deadlines, make_engine, make_session_factory
from pars.errors import BadRequest
from pars.feed.routes import router as feed_router
from pars.inputs import header_text_problem, text_problem
from pars.logs import configure_logging
from pars.oversight import audit_routes, pages_complaints, pages_impact, pages_public
from pars.oversight import pages as oversight_pages
from pars.oversight import worklists as oversight_worklists
from pars.oversight.routes import router as oversight_router
from pars.records import pages as records_pages
from pars.records import worklists as records_worklists
from pars.records.repository import counts_by_status
from pars.records.routes import router as arrests_router
from pars.records.search import check_parameter_names
from pars.settings import Settings
from pars.sharing import arrest_routes, pages_cases, pages_partner
from pars.sharing import pages as agreement_pages
from pars.sharing import worklists as agreement_worklists
from pars.sharing.routes import router as sharing_router
from pars.web import guard, signin
from pars.web.render import HERE

DESCRIPTION = """
PARS processes arrests from booking to preliminary arraignment and shares arrest data with
partner agencies only as their agreements allow. Every call to `/api/v1` needs
`Authorization: Bearer <api key>`; every error is `application/problem+json` (RFC 9457).

Each operation documents every status it can answer: the errors with the `Problem` schema (and
`InvalidProblem`, whose `errors` name each invalid field, for 422), `Retry-After` on 429 and 503.
Lists take `limit` (1 to 100, default 50) and `cursor` (the opaque `next_cursor` of the previous
page). Every POST accepts an `Idempotency-Key`. A method a path does not have is 405 with `Allow`.
"""


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, engine: Engine | None = None
) -> FastAPI:
    settings = settings or Settings()
    configure_logging()
    app = FastAPI(title="PARS", version=__version__, description=DESCRIPTION, docs_url="/docs")
    engine = engine or make_engine(settings.database_url, deadlines=deadlines(settings))
    app.state.settings = settings
    app.state.engine = engine
    app.state.probe = probe = Probe(engine.url)
    # A missing or unsafe signing key stops the start-up here, not at the first commit.
    app.state.audit_signer = signer = load_signer(settings.audit_key_file)
    policy = CheckpointPolicy.from_settings(settings, signer)
    app.state.session_factory = make_session_factory(engine)
    app.state.checkpoint_policy = policy
    app.state.clock = clock or SystemClock()
    metrics = Metrics()
    arrests = StoredGauge("pars_arrests", "Arrests by workflow status", "status", counts_by_status)
    metrics.watch(make_session_factory(probe.engine), arrests)
    app.state.metrics = metrics

    # Feature routers carry the full /api/v1 path themselves, so the route template seen by
    # metrics and logs is the whole path.
    for router in (
        principals_router,
        arrests_router,
        arrest_routes.router,
        sharing_router,
        audit_routes.router,
        feed_router,
        oversight_router,
    ):
        app.include_router(router, dependencies=[Depends(api_request)])
    app.include_router(health.router)
    problems.install(app)
    openapi.install(app)
    idempotency.install(app)
    install_pages(app)  # after the API's error handlers (the pages answer errors with pages)
    # Outermost last: request id and log, then the body read whole (no slot held while a slow
    # client sends it), then admission (no more requests inside at once than the pool has
    # connections), then the commit of keyed requests with their stored answer.
    app.add_middleware(idempotency.KeyedCommit)
    app.add_middleware(Admission, limit=_connections(engine), timeout=settings.http_admission_timeout)
    app.add_middleware(BodyReader, timeout=settings.http_body_timeout)
    app.add_middleware(RequestContext, metrics=metrics)
    return app


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


def install_pages(app: FastAPI) -> None:
    """Every feature's pages, the web shell's sign-in and guard, and the static files."""
    app.state.agreement_evidence = pages_impact.impact_context
    app.state.worklists = (records_worklists.worklists, agreement_worklists.worklists, oversight_worklists.worklists)
    pages = (signin, records_pages, agreement_pages, pages_partner, pages_cases, oversight_pages, pages_complaints)
    for module in pages:
        app.include_router(module.router, dependencies=[Depends(guard.mark_web)])
    # The public transparency page: the one page without a session (its allow rule is there).
    pages_public.install(app, dependencies=[Depends(guard.mark_web)])
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    guard.install(app)


def deadlines(settings: Settings) -> Deadlines:
    return Deadlines(
        statement=settings.database_statement_timeout,
        lock=settings.database_lock_timeout,
        busy=settings.database_busy_timeout,
        pool=settings.database_pool_timeout,
        connect=settings.database_connect_timeout,
    )


def _connections(engine: Engine) -> int:
    """How many connections the engine's pool can lend at once (a QueuePool: size + overflow)."""
    pool = engine.pool
    if isinstance(pool, QueuePool):
        return pool.size() + max(0, pool._max_overflow)  # (overflow has no public accessor)
    return 15
