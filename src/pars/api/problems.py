"""Every error as application/problem+json (RFC 9457, CONTRACT §3)."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from pars.errors import DomainError, Invalid, TooManyRequests

PROBLEM = "application/problem+json"
# Seconds a client should wait before retrying a request refused for saturation (503).
RETRY_AFTER = 2
_TITLES = {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 408: "Request timeout", 409: "Conflict", 413: "Payload too large",
           422: "Invalid input", 429: "Too many requests", 500: "Internal error",
           503: "Service unavailable"}  # fmt: skip

log = structlog.get_logger()

# What a saturated or unreachable database raises: OperationalError covers a refused connection,
# PostgreSQL's statement and lock timeouts (QueryCanceled, LockNotAvailable), deadlocks and
# SQLite's "database is locked"; PoolTimeout is a pool with no connection to lend in time.
SATURATION: tuple[type[Exception], ...] = (OperationalError, PoolTimeout)


def problem(
    status: int, detail: str, *, title: str | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extra,
    }
    headers = {**(headers or {}), **({"WWW-Authenticate": "Bearer"} if status == 401 else {})}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    # An extension member never overwrites a standard one.
    extra: dict[str, Any] = {k: v for k, v in exc.members.items() if k not in ("type", "title", "status", "detail")}
    if isinstance(exc, Invalid):
        extra["errors"] = [{"field": e.field, "message": e.message} for e in exc.errors]
    response = problem(exc.status, exc.detail, title=exc.title, **extra)
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def validation_error(_: Request, exc: Exception) -> JSONResponse:
    """Pydantic's messages name the field and the rule; the offending value (`input`) is never
    echoed, because it may be protected data."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem(400, "the body is not valid JSON")
    items = [{"field": _location(tuple(e["loc"])), "message": str(e["msg"])} for e in errors]
    detail = "; ".join(f"{i['field']}: {i['message']}" for i in items)
    return problem(422, detail, errors=items)


def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
    if exc.status_code == 405:
        allow = allowed_methods(request)
        return problem(405, f"{request.method} is not allowed here; allowed: {allow}", headers={"Allow": allow})
    return problem(exc.status_code, detail, headers=dict(exc.headers or {}))


def allowed_methods(request: Request) -> str:
    """Every method some route offers at the request's path. Starlette's own `Allow` names only
    the first route that matched the path, while the API declares one route per method."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        if route.methods and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return ", ".join(sorted(methods))


def unavailable(_: Request, exc: Exception) -> JSONResponse:
    return saturated(exc)


def saturated(exc: Exception) -> JSONResponse:
    """The database refused or dropped the connection, a statement or lock wait ran past its
    deadline, or the pool had no connection to lend in time: the request changed nothing and may
    be retried (CONTRACT §3). Only the error's class is logged, never its statement or values."""
    cause = getattr(exc, "orig", None) or exc
    log.warning("database unavailable", error_type=type(cause).__name__)
    return problem(503, "the database is busy or unreachable; retry shortly", headers={"Retry-After": str(RETRY_AFTER)})


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", error_type=type(exc).__name__)
    return problem(500, "an unexpected error occurred; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for saturation in SATURATION:
        app.add_exception_handler(saturation, unavailable)
    app.add_exception_handler(Exception, _unexpected)
