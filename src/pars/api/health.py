"""`/healthz` and `/metrics` (CONTRACT §11), answered outside the admission limit.

The health check has its own way to the database (`Probe`): a fresh connection with a short
connect, statement and lock timeout, never one from the API's pool, and on SQLite a read-only
connection that takes no write lock. So it answers within a second whatever the API's requests
are waiting for: 200 when the database answers, 503 when it is unreachable or does not answer in
time. A pool exhausted by stuck requests or a lock held on a table does not make it wait.
"""

from __future__ import annotations

from typing import Any, Literal

import anyio
import structlog
from anyio import to_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import URL, Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from pars.api.problems import RETRY_AFTER

router = APIRouter(tags=["health"])

log = structlog.get_logger()

# /healthz answers within a second (CONTRACT §3); the database gets most of it.
HEALTH_DEADLINE = 0.8


class Probe:
    def __init__(self, url: URL) -> None:
        self.engine = probe_engine(url)
        # Its own threads: a threadpool busy with stuck requests must not delay the check.
        self.limiter = anyio.CapacityLimiter(4)

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT count(*) FROM alembic_version"))
        except SQLAlchemyError as exc:
            log.warning("health check failed", error_type=type(getattr(exc, "orig", None) or exc).__name__)
            return False
        return True

    async def healthy(self) -> bool:
        with anyio.move_on_after(HEALTH_DEADLINE):
            # A connection attempt to a host that does not answer cannot be interrupted; its thread
            # is abandoned (it ends at the connect timeout) and the answer is 503 now.
            return await to_thread.run_sync(self.check, abandon_on_cancel=True, limiter=self.limiter)
        return False


def probe_engine(url: URL) -> Engine:
    """Short-lived connections for health and metrics: read-only on SQLite (no write lock, no
    busy wait behind a writer, and a missing file is an error rather than a new empty database);
    on PostgreSQL, timeouts well under the health deadline."""
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        return create_engine(
            f"sqlite:///file:{database}?mode=ro&uri=true", poolclass=NullPool, connect_args={"timeout": 0.3}
        )
    options = "-c statement_timeout=700 -c lock_timeout=300"
    return create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 1, "options": options})


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]


HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Health, "description": "the database answers"},
    503: {"model": Health, "description": "the database is unreachable or did not answer in time"},
}


@router.get("/healthz", response_model=None, responses=HEALTH_RESPONSES)
async def healthz(request: Request) -> JSONResponse:
    """Needs no key; answered outside the request limit, within a second."""
    probe: Probe = request.app.state.probe
    if await probe.healthy():
        return JSONResponse({"status": "ok", "database": "ok"})
    return JSONResponse(
        {"status": "unavailable", "database": "unreachable"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER)},
    )


@router.get("/metrics", response_class=PlainTextResponse, responses={200: {"description": "Prometheus text format"}})
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
