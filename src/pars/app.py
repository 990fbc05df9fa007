"""The ASGI application: API, health and metrics, built around one engine and one clock."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool

from pars import __version__
from pars.api import health, idempotency, openapi, problems
from pars.api.deps import api_request
from pars.api.health import Probe
from pars.api.metrics import Metrics
from pars.api.middleware import Admission, BodyReader, RequestContext
from pars.audit.chain import CheckpointPolicy, session_info
from pars.audit.routes import router as audit_router
from pars.audit.signing import load_signer
from pars.auth.routes import router as principals_router
from pars.clock import Clock, SystemClock
from pars.db import Deadlines, make_engine, make_session_factory
from pars.feed.routes import router as feed_router
from pars.logs import configure_logging
from pars.oversight.routes import router as oversight_router
from pars.records.routes import router as arrests_router
from pars.settings import Settings
from pars.sharing.routes import router as sharing_router
from pars.web import routes as web

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
    app.state.session_factory = make_session_factory(engine, info=session_info(policy))
    app.state.clock = clock or SystemClock()
    metrics = Metrics()
    metrics.watch_arrests(make_session_factory(probe.engine))
    app.state.metrics = metrics

    # Feature routers carry the full /api/v1 path themselves, so the route template seen by
    # metrics and logs is the whole path.
    for router in (principals_router, arrests_router, sharing_router, audit_router, feed_router, oversight_router):
        app.include_router(router, dependencies=[Depends(api_request)])
    app.include_router(health.router)
    problems.install(app)
    openapi.install(app)
    idempotency.install(app)
    web.install(app)  # the pages, after the API's error handlers (it answers pages with pages)
    # Outermost last: request id and log, then the body read whole (no slot held while a slow
    # client sends it), then admission (no more requests inside at once than the pool has
    # connections), then the commit of keyed requests with their stored answer.
    app.add_middleware(idempotency.KeyedCommit)
    app.add_middleware(Admission, limit=_connections(engine), timeout=settings.http_admission_timeout)
    app.add_middleware(BodyReader, timeout=settings.http_body_timeout)
    app.add_middleware(RequestContext, metrics=metrics)
    return app


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
