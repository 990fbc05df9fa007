"""Every error as application/problem+json (RFC 9457, CONTRACT §3)."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pars.errors import DomainError, Invalid, TooManyRequests

PROBLEM = "application/problem+json"
_TITLES = {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Payload too large", 422: "Invalid input",
           429: "Too many requests", 500: "Internal error", 503: "Service unavailable"}  # fmt: skip

log = structlog.get_logger()


def problem(status: int, detail: str, *, title: str | None = None, **extra: Any) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
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


def http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
    return problem(exc.status_code, detail)


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", error_type=type(exc).__name__)
    return problem(500, "an unexpected error occurred; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, _unexpected)
