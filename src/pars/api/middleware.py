"""ASGI middleware: the 1 MiB body limit, and per-request id, access log and metrics.

Written as plain ASGI rather than BaseHTTPMiddleware so streaming responses (the feed's SSE)
pass through untouched.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import anyio
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pars.api.metrics import Metrics
from pars.api.problems import problem

MAX_BODY = 1024 * 1024

log = structlog.get_logger("pars.access")


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = problem(413, f"the body is larger than {self.max_body} bytes")
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await too_large(scope, receive, send)
            return
        received, started = 0, False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _BodyTooLarge:
            if not started:
                await too_large(scope, receive, send)


class RequestContext:
    """Binds a request id to the logs, logs one line per request (never its query or body,
    which may hold personal data), and feeds the request metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            self.metrics.observe_request(scope["method"], route, status, elapsed)
            log.info("request", method=scope["method"], route=route, status=status, ms=round(elapsed * 1000, 1))


def _route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class Admission:
    """At most ``limit`` requests inside the application at once; the others wait here, in the
    event loop, costing nothing. A sync route runs each dependency and the endpoint in separate
    threadpool calls and holds its database connection in between: with more requests inside than
    the pool has connections, every thread can end up waiting for a connection held by a request
    that waits for a thread, until the pool gives up after 30 s (a 500). Event streams are let
    through: they hold no connection between batches."""

    def __init__(self, app: ASGIApp, limit: int, exempt: tuple[str, ...] = ("/api/v1/feed/stream",)) -> None:
        self.app, self.exempt = app, exempt
        self.slots = anyio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        async with self.slots:
            await self.app(scope, receive, send)
