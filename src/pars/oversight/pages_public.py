"""The public transparency page (CONTRACT §10): `/transparency`, `/transparency.json` and
`/transparency.csv`, the only pages anyone may read without signing in.

**The allow rule.** Every page route requires a signed-in session (`guard.web_actor`) and every
API route an API key (`pars.app.api_request`), so a route is closed unless it says otherwise;
these three paths say so here, by name (`PUBLIC_PATHS`), and take neither dependency: what they
serve is counts and agreement terms, suppressed, never a record (``pars.oversight.public``).
`tests/oversight/test_public_routes.py` lists every route the app answers without a key or a
session and fails on any other.

**It never slows the API down.** The figures are computed at most once per ``TTL`` by one
computation at a time, on a connection of their own (never one of the API's pool), in a worker
thread; a burst of anonymous requests waits in the event loop for that one computation, and
while a refresh runs, requests are answered from the previous copy. A change to an agreement
made through this process marks the copy stale at once (`InvalidateOnAgreementChange`). The three paths need no
admission slot (`api.middleware.UNLIMITED`): the cached copy costs no database work. Readings
are not audited: nothing personal leaves, and a public page's readers are anonymous.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import structlog
from anyio import to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import URL, Engine, create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pars.clock import Clock
from pars.oversight.public import public_figures
from pars.oversight.public_render import to_csv, to_html
from pars.settings import Settings
from pars.work import bind

PUBLIC_PATHS = ("/transparency", "/transparency.json", "/transparency.csv")
AGREEMENT_PATHS = ("/api/v1/agreements", "/agreements")
TTL = 600.0  # seconds: the figures are of complete months; ten minutes old is fresh enough
HEADERS = {
    # No script, no frame, nothing from elsewhere: styles and SVG charts are inline.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "public, max-age=300",
}

router = APIRouter(include_in_schema=False)
log = structlog.get_logger()


@dataclass(frozen=True)
class Snapshot:
    made: float  # time.monotonic() when computed
    figures: dict[str, Any]
    csv: str
    html: str


class PublicFigures:
    """The cached public document. ``compute`` runs in a worker thread, one at a time."""

    def __init__(self, compute: Callable[[], Snapshot], *, ttl: float = TTL) -> None:
        self.compute, self.ttl = compute, ttl
        self.snapshot: Snapshot | None = None
        self.computations = 0
        self._lock = anyio.Lock()

    def fresh(self, snapshot: Snapshot | None) -> bool:
        return snapshot is not None and time.monotonic() - snapshot.made < self.ttl

    def invalidate(self) -> None:
        """The next request computes anew (the previous copy is served meanwhile)."""
        if self.snapshot is not None:
            self.snapshot = Snapshot(-self.ttl, self.snapshot.figures, self.snapshot.csv, self.snapshot.html)

    async def get(self) -> Snapshot:
        snapshot = self.snapshot
        if snapshot is not None and (self.fresh(snapshot) or self._lock.locked()):
            return snapshot  # fresh, or being refreshed by another request: the copy we have
        async with self._lock:
            if self.fresh(self.snapshot) and self.snapshot is not None:
                return self.snapshot  # computed while this request waited
            try:
                fresh = await to_thread.run_sync(self.compute)
            except Exception:
                if self.snapshot is None:
                    raise
                # The database is away or slow: the last copy stays published; the next request retries.
                log.warning("public transparency refresh failed; serving the previous copy", exc_info=True)
                return self.snapshot
            self.snapshot = fresh
            self.computations += 1
            return fresh


def computer(settings: Settings, engine: Engine, clock: Clock) -> Callable[[], Snapshot]:
    """The computation, on its own engine without a pool: one connection while it runs, none
    after, so the API's pool never lends it one. It only reads: on SQLite through a read-only
    connection that takes no write lock (the app's engine begins every transaction with one)."""
    own: list[Engine] = []

    def compute() -> Snapshot:
        if not own:
            own.append(reader_engine(engine.url))
        started = time.perf_counter()
        with Session(own[0]) as session:
            bind(session, clock, policy=None)  # it reads and signs nothing
            figures = public_figures(session, zone=settings.zone, now=clock.now())
        snapshot = Snapshot(time.monotonic(), figures, to_csv(figures), to_html(figures))
        log.info("public transparency computed", ms=round((time.perf_counter() - started) * 1000, 1))
        return snapshot

    return compute


def reader_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        return create_engine(f"sqlite:///file:{url.database}?mode=ro&uri=true", poolclass=NullPool)
    return create_engine(url, poolclass=NullPool, pool_pre_ping=True)


class InvalidateOnAgreementChange:
    """A successful change to an agreement through this process (API or pages) marks the copy
    stale, so the next reader gets the new terms; other processes' changes show within ``TTL``."""

    def __init__(self, app: ASGIApp, figures: PublicFigures) -> None:
        self.app, self.figures = app, figures

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if scope["type"] != "http" or scope["method"] == "GET" or not path.startswith(AGREEMENT_PATHS):
            await self.app(scope, receive, send)
            return

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                self.figures.invalidate()
            await send(message)

        await self.app(scope, receive, watch)


def install(app: FastAPI, *, dependencies: Sequence[Any]) -> None:
    state = app.state
    figures = PublicFigures(computer(state.settings, state.engine, state.clock))
    app.state.public_figures = figures
    app.include_router(router, dependencies=dependencies)
    app.add_middleware(InvalidateOnAgreementChange, figures=figures)


def _figures(request: Request) -> PublicFigures:
    cache: PublicFigures = request.app.state.public_figures
    return cache


@router.get(PUBLIC_PATHS[0])
async def page(request: Request) -> HTMLResponse:
    snapshot = await _figures(request).get()
    return HTMLResponse(snapshot.html, headers=HEADERS)


@router.get(PUBLIC_PATHS[1])
async def as_json(request: Request) -> JSONResponse:
    snapshot = await _figures(request).get()
    return JSONResponse(snapshot.figures, headers=HEADERS)


@router.get(PUBLIC_PATHS[2])
async def as_csv(request: Request) -> Response:
    snapshot = await _figures(request).get()
    headers = {**HEADERS, "Content-Disposition": 'attachment; filename="pars-transparency.csv"'}
    return Response(snapshot.csv, media_type="text/csv; charset=utf-8", headers=headers)
