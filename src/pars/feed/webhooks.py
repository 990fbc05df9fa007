"""Sending webhooks: Standard Webhooks signatures and the HTTP client. No database here: the
worker prepares what to send in one short transaction, sends outside any transaction, and
records the results in another.

The ``webhook-timestamp`` is the wall-clock instant of the attempt, not the service clock:
receivers compare it with their own clock to refuse replays, which is what it is for.

A partner's endpoint may be slow, hang, trickle or answer with gigabytes; none of that may touch
another partner's deliveries or the worker's memory (CONTRACT §9). So every attempt runs under one
total deadline (connect, TLS, sending, and the whole answer), reads at most ``RESPONSE_LIMIT``
bytes of the answer (then drops the connection: the status line has already decided the
outcome), and is an asyncio task of its own, so a slow endpoint only ever holds its own
attempts (the claim caps how many of one endpoint's attempts are in hand at once).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
import ssl
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
import httpcore
import httpx
from standardwebhooks import Webhook

from pars.feed.events import CONTENT_TYPE
from pars.feed.targets import ForbiddenTarget, Resolver, checked_addresses, system_resolver
from pars.feed.vocabulary import DeliveryError, PrivateTargets

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
# A receiver may ask for a pause with Retry-After on these.
RETRY_AFTER_STATUSES = frozenset({429, 503})
GONE = 410
USER_AGENT = "PARS-webhooks/1"
# At most this much of an answer is read; then the connection is dropped.
RESPONSE_LIMIT = 64 * 1024
# Kept-alive connections per pool, and how long an idle one is kept.
KEEPALIVE_CONNECTIONS = 256
KEEPALIVE_SECONDS = 30.0


def new_secret() -> str:
    """256 random bits, as Standard Webhooks writes a secret: ``whsec_`` and base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signed_headers(secret: str, message_id: str, body: bytes, at: datetime) -> dict[str, str]:
    signature = Webhook(secret).sign(message_id, at.astimezone(UTC), body.decode())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": CONTENT_TYPE,
    }


@dataclass(frozen=True)
class Outgoing:
    """One attempt, prepared: where to, signed with what, and the exact bytes."""

    job_id: int
    lease_token: str
    subscription_id: uuid.UUID
    url: str
    secret: str
    event_id: uuid.UUID
    sequence: int
    type: str
    attempt: int
    body: bytes
    # time.monotonic() after which the attempt may no longer start: it would not end (deadline)
    # before the job's lease runs out, and another worker could then send it too.
    start_by: float = float("inf")


@dataclass(frozen=True)
class Result:
    outgoing: Outgoing
    status_code: int | None
    latency_ms: int
    error: DeliveryError | None
    retry_after: timedelta | None = None
    # False when the attempt was not made at all (too late to start within the lease): no
    # attempt row, the job is released as it was.
    sent: bool = True

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == GONE


def retry_after(value: str | None, wall: datetime) -> timedelta | None:
    """Retry-After as seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(timedelta(0), when - wall)


def _wall() -> datetime:
    return datetime.now(UTC)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the address check in front of every connection: the host
    is resolved here, every address checked, and the connection made to a checked address, never
    to the name (which could resolve differently a second time). The URL keeps the name, so the
    Host header, TLS SNI and certificate check, and the pool's keying stay those of the name."""

    def __init__(self, policy: PrivateTargets, resolve: Resolver) -> None:
        self._policy, self._resolve = policy, resolve
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await anyio.to_thread.run_sync(checked_addresses, host, self._policy, self._resolve)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # the next address, if any
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise ForbiddenTarget(path)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Body(httpx.AsyncByteStream):
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._stream:
            yield part

    async def aclose(self) -> None:
        if hasattr(self._stream, "aclose"):
            await self._stream.aclose()


class GuardedTransport(httpx.AsyncBaseTransport):
    """httpx over an httpcore pool whose connections go through ``GuardedBackend`` (httpx's own
    transport offers no way to choose the network backend)."""

    def __init__(self, pool: httpcore.AsyncConnectionPool) -> None:
        self._pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        url = httpcore.URL(
            scheme=request.url.raw_scheme, host=request.url.raw_host, port=request.url.port,
            target=request.url.raw_path,
        )  # fmt: skip
        core = httpcore.Request(
            request.method, url, headers=request.headers.raw, content=request.stream, extensions=request.extensions
        )
        response = await self._pool.handle_async_request(core)
        return httpx.Response(
            response.status, headers=response.headers, stream=_Body(response.stream), extensions=response.extensions
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


def classify(exc: BaseException) -> DeliveryError:
    """The category of a failed attempt, from the exception and everything that caused it."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        item = todo.pop()
        if item in seen:
            continue
        seen.append(item)
        todo.extend(e for e in (item.__cause__, item.__context__) if e is not None)
        if isinstance(item, BaseExceptionGroup):
            todo.extend(item.exceptions)
    kinds = tuple(type(item) for item in seen)

    def has(*types: type[BaseException]) -> bool:
        return any(issubclass(kind, types) for kind in kinds)

    if has(ForbiddenTarget):
        return DeliveryError.FORBIDDEN_TARGET
    if has(ssl.SSLError, ssl.CertificateError):
        return DeliveryError.TLS_ERROR
    if has(TimeoutError, httpx.TimeoutException, httpcore.TimeoutException):
        return DeliveryError.TIMEOUT
    if has(ConnectionRefusedError):
        return DeliveryError.CONNECTION_REFUSED
    return DeliveryError.CONNECTION_ERROR


class WebhookSender:
    """Posts prepared attempts, each an asyncio task on a loop of its own thread, and hands each
    result to a callback as soon as it is known: a slow endpoint delays only its own attempts.

    httpx's ``AsyncClient`` over one connection pool, HTTP/1.1 keep-alive, redirects not followed
    (an endpoint is the URL the partner registered, nothing else), no proxies from the
    environment, ``Accept-Encoding: identity`` (the answer is not to be inflated). Every
    attempt has a total deadline (``asyncio.timeout`` around connect, send and the streamed
    read) and reads at most ``RESPONSE_LIMIT`` bytes of the answer. Connections go only to
    addresses ``targets`` allows, checked after resolution on every new connection."""

    def __init__(
        self,
        *,
        deadline: float,
        targets: PrivateTargets = PrivateTargets.DENY,
        resolve: Resolver = system_resolver,
        wall: Callable[[], datetime] = _wall,
    ) -> None:
        self._deadline = deadline
        self._wall = wall
        self._signers: dict[str, Webhook] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pars-webhooks", daemon=True)
        self._thread.start()
        self._client = self._call(self._open(targets, resolve)).result()
        self._closed = False

    def _call(self, coroutine: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def _open(self, targets: PrivateTargets, resolve: Resolver) -> httpx.AsyncClient:
        pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(),
            max_connections=None,  # the claim bounds attempts per endpoint; no endpoint waits for a slot
            max_keepalive_connections=KEEPALIVE_CONNECTIONS,
            keepalive_expiry=KEEPALIVE_SECONDS,
            network_backend=GuardedBackend(targets, resolve),
        )
        return httpx.AsyncClient(
            transport=GuardedTransport(pool),
            timeout=httpx.Timeout(self._deadline),
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": USER_AGENT, "accept-encoding": "identity"},
        )

    def submit(self, outgoing: Outgoing, done: Callable[[Result], None]) -> None:
        """Starts the attempt; ``done`` gets its result, on the sender's thread, when known."""
        future = self._call(self.attempt(outgoing))
        future.add_done_callback(lambda finished: done(finished.result()))

    def send_all(self, outgoing: Sequence[Outgoing]) -> list[Result]:
        """Every attempt at once; waits for all (tests, tools)."""
        futures = [self._call(self.attempt(item)) for item in outgoing]
        return [future.result() for future in futures]

    def send(self, outgoing: Outgoing) -> Result:
        return self.send_all([outgoing])[0]

    async def attempt(self, outgoing: Outgoing) -> Result:
        """One attempt, never raising: a result with a status code, or a category of failure."""
        if time.monotonic() > outgoing.start_by:
            return Result(outgoing, None, 0, None, sent=False)
        at = self._wall()
        started = time.perf_counter()
        status: int | None = None
        pause_header: str | None = None
        try:
            async with asyncio.timeout(self._deadline):
                request = self._client.build_request(
                    "POST", outgoing.url, content=outgoing.body, headers=self._headers(outgoing, at)
                )
                response = await self._client.send(request, stream=True)
                try:
                    status, pause_header = response.status_code, response.headers.get("retry-after")
                    read = 0
                    async for chunk in response.aiter_raw():
                        read += len(chunk)
                        if read > RESPONSE_LIMIT:
                            break  # closing an unfinished answer drops the connection
                finally:
                    await response.aclose()
        except Exception as exc:  # noqa: BLE001 - any failure is a result; a status line seen still decides
            if status is None:
                return Result(outgoing, None, _since(started), classify(exc))
        assert status is not None
        latency = _since(started)
        pause = retry_after(pause_header, at) if status in RETRY_AFTER_STATUSES else None
        error = None if 200 <= status < 300 else DeliveryError.HTTP_STATUS
        return Result(outgoing, status, latency, error, pause)

    def _headers(self, outgoing: Outgoing, at: datetime) -> dict[str, str]:
        signer = self._signers.get(outgoing.secret)
        if signer is None:  # decoding the secret once per endpoint, not per delivery
            signer = self._signers[outgoing.secret] = Webhook(outgoing.secret)
        message_id = str(outgoing.event_id)
        return {
            "webhook-id": message_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signer.sign(message_id, at.astimezone(UTC), outgoing.body.decode()),
            "content-type": CONTENT_TYPE,
        }

    def close(self) -> None:
        """Closes the connections and ends the sender's thread (attempts still running end)."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):  # closing what may already be broken: nothing to keep
            self._call(self._client.aclose()).result(timeout=self._deadline + 5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()


def _since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
