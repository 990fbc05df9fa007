"""ASGI middleware: the body read (deadline and 1 MiB cap), admission control, and per-request
id, access log and metrics.

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
from pars.api.problems import RETRY_AFTER, problem

MAX_BODY = 1024 * 1024
# A request that is refused before its body was read whole: the connection cannot carry another.
_CLOSE = {"Connection": "close"}
# Paths answered without an admission slot: monitoring must see an overloaded node, and event
# streams hold no connection between batches; the public transparency page serves a cached copy
# and computes it on a connection of its own (`pars.oversight.pages_public`).
UNLIMITED = (
    "/healthz", "/metrics", "/api/v1/feed/stream", "/transparency", "/transparency.json", "/transparency.csv",
)  # fmt: skip

log = structlog.get_logger("pars.access")


class BodyReader:
    """Reads the whole request body, within a deadline and the size cap, before the request goes
    further. A client that trickles its body (or never finishes it) waits here, in the event loop,
    holding no admission slot, no thread and no database connection; past the deadline it gets 408
    and the connection is closed. A body over the cap is 413 whether or not it declared its length
    (a chunked one included). The app then receives the body in one message."""

    def __init__(self, app: ASGIApp, *, timeout: float, max_body: int = MAX_BODY) -> None:
        self.app, self.timeout, self.max_body = app, timeout, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = problem(413, f"the body is larger than {self.max_body} bytes", headers=_CLOSE)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        received = 0
        with anyio.move_on_after(self.timeout) as deadline:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # the client left: there is no one to answer
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_body:
                    await too_large(scope, receive, send)
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if deadline.cancelled_caught:
            late = problem(408, f"the request body did not arrive within {self.timeout:g} seconds", headers=_CLOSE)
            await late(scope, receive, send)
            return
        body, delivered = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()  # after the body: only the disconnect (streams watch for it)
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


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
    event loop, costing nothing, for at most ``timeout`` seconds (then 503 with Retry-After). A sync
    route runs each dependency and the endpoint in separate threadpool calls and holds its
    database connection in between: with more requests inside than the pool has connections,
    every thread can end up waiting for a connection held by a request that waits for a thread.
    Bodies are read before (`BodyReader`), so a slow client never holds a slot; `/healthz`,
    `/metrics` and event streams are let through."""

    def __init__(self, app: ASGIApp, limit: int, *, timeout: float = 10, exempt: tuple[str, ...] = UNLIMITED) -> None:
        self.app, self.exempt, self.timeout = app, exempt, timeout
        self.slots = anyio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        admitted = False
        with anyio.move_on_after(self.timeout):
            await self.slots.acquire()
            admitted = True
        if not admitted:
            busy = problem(503, "the service is saturated; retry shortly", headers={"Retry-After": str(RETRY_AFTER)})
            await busy(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()
