"""Sending webhooks: Standard Webhooks signatures and the HTTP client. No database here: the
worker prepares what to send in one short transaction, sends outside any transaction, and
records the results in another.

The ``webhook-timestamp`` is the wall-clock instant of the attempt, not the service clock:
receivers compare it with their own clock to refuse replays, which is what it is for.

A partner's endpoint may be slow, hang, trickle or answer with gigabytes; none of that may touch
another partner's deliveries or the worker's memory (CONTRACT §9). So every attempt runs under one
total deadline (connect, TLS, sending, and the whole answer: a watchdog shuts the socket of an
attempt past it, however its bytes trickle), reads at most ``RESPONSE_LIMIT`` bytes of the
answer (then drops the connection: the status line has already decided the outcome), and waits
only for its own host: each host has a queue and up to ``per_host`` sending threads of its own
(the claim caps how many attempts in hand are one endpoint's), so a slow endpoint only ever
holds its own attempts. Connections go only to addresses ``PARS_WEBHOOK_PRIVATE_TARGETS`` allows, checked
after resolution each time a connection is opened, and to the checked address itself.
"""

from __future__ import annotations

import base64
import contextlib
import heapq
import http.client
import itertools
import secrets
import socket
import ssl
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import BinaryIO
from urllib.parse import urlsplit

import structlog
from standardwebhooks import Webhook

from pars.feed.events import CONTENT_TYPE
from pars.feed.targets import ForbiddenTarget, Resolver, checked_addresses, system_resolver
from pars.feed.vocabulary import DeliveryError
from pars.settings import PrivateTargets

log = structlog.get_logger()

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
# A receiver may ask for a pause with Retry-After on these.
RETRY_AFTER_STATUSES = frozenset({429, 503})
GONE = 410
USER_AGENT = "PARS-webhooks/1"
# At most this much of an answer is read; then the connection is dropped.
RESPONSE_LIMIT = 64 * 1024
# A kept-alive connection idle longer than this is opened anew rather than reused.
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
    secret: str = field(repr=False)
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


# ``http.client``'s limits on an answer's head: its longest line, and how many header lines.
MAX_LINE = 65536
MAX_HEADERS = 100


class Headers:
    """An answer's header fields, read without ``email.parser`` (``http.client``'s parse of a
    head costs a third of a delivery's sending): the few that ``http.client`` and the sender
    ask for, by lower-case name, the first of repeated fields first. A folded line (obsolete,
    leading whitespace) continues the field before it, as ``email.parser`` reads it."""

    def __init__(self, lines: list[bytes]) -> None:
        self._fields: dict[str, list[str]] = {}
        last: list[str] | None = None
        for raw in lines:
            line = raw.decode("iso-8859-1").rstrip("\r\n")
            if line[:1] in (" ", "\t"):
                if last:
                    last[-1] += " " + line.strip()
                continue
            name, colon, value = line.partition(":")
            if not colon:
                last = None
                continue
            last = self._fields.setdefault(name.strip().lower(), [])
            last.append(value.strip())

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._fields.get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str, default: list[str] | None = None) -> list[str] | None:
        return self._fields.get(name.lower()) or default

    def items(self) -> list[tuple[str, str]]:
        return [(name, value) for name, values in self._fields.items() for value in values]


class Response(http.client.HTTPResponse):
    """``http.client``'s answer, its head read into `Headers`. The framing is decided as RFC 9112
    section 6.3 has it for the answer to a POST, with ``http.client``'s readings where the RFC
    leaves a choice (a chunked body is read as chunked whatever the status; a length that is not
    a number, or negative, is no length): the same status, length, chunking and closing as
    ``http.client`` (tests/feed/test_response_head.py)."""

    def begin(self) -> None:
        if self.headers is not None:
            return
        version, status, reason = self._read_status()
        while status == http.client.CONTINUE:  # an interim answer: its head, then the real one
            _head_lines(self.fp)
            version, status, reason = self._read_status()
        if not version.startswith(("HTTP/1.", "HTTP/0.9")):
            raise http.client.UnknownProtocol(version)
        self.version = 10 if version in ("HTTP/1.0", "HTTP/0.9") else 11
        self.code = self.status = status
        self.reason = reason.strip()
        self.headers = self.msg = Headers(_head_lines(self.fp))
        self.chunked = (self.headers.get("transfer-encoding") or "").lower() == "chunked"
        self.chunk_left = None
        no_body = status in (http.client.NO_CONTENT, http.client.NOT_MODIFIED) or 100 <= status < 200
        self.length = 0 if no_body else None if self.chunked else _length(self.headers.get("content-length"))
        # Without a length or chunks, the body runs to the end of the connection.
        self.will_close = self._check_close() or (not self.chunked and self.length is None)


def _length(field: str | None) -> int | None:
    """A Content-Length field's value, or None where it is absent or not a length."""
    try:
        length = int(field or "")
    except ValueError:
        return None
    return length if length >= 0 else None


def _head_lines(fp: BinaryIO) -> list[bytes]:
    """The header lines of an answer's head, up to the empty line, under ``http.client``'s
    limits."""
    lines: list[bytes] = []
    while True:
        line = fp.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("header line")
        if line in (b"\r\n", b"\n", b""):
            return lines
        lines.append(line)
        if len(lines) > MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")


class GuardedConnection(http.client.HTTPConnection):
    """``http.client`` whose ``connect`` resolves the host, checks every address, and connects
    to a checked one, never to the name again (which could resolve differently a second time).
    The Host header stays the name; for https, so do SNI and the certificate check."""

    response_class = Response

    def __init__(
        self, host: str, port: int | None, *, timeout: float, policy: PrivateTargets, resolve: Resolver,
        tls: ssl.SSLContext | None,
    ) -> None:  # fmt: skip
        super().__init__(host, port, timeout=timeout)
        if tls is not None and port is None:
            self.port = 443
        self._policy, self._resolve, self._tls = policy, resolve, tls
        self.used_at = time.monotonic()

    def connect(self) -> None:
        addresses = checked_addresses(self.host, self._policy, self._resolve)
        failure: OSError | None = None
        for address in addresses:
            try:
                self.sock = socket.create_connection((address, self.port), self.timeout)
                break
            except OSError as exc:  # the next address, if any
                failure = exc
        else:
            assert failure is not None
            raise failure
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is not None:
            self.sock = self._tls.wrap_socket(self.sock, server_hostname=self.host)

    def _send_output(self, message_body: object = None, encode_chunked: bool = False) -> None:
        """The head and a body of bytes in one write (``http.client`` writes them one after the
        other): one system call and one packet per delivery, and the receiver woken once."""
        if not isinstance(message_body, bytes) or encode_chunked:
            super()._send_output(message_body, encode_chunked)  # type: ignore[misc]
            return
        self._buffer.extend((b"", b""))  # type: ignore[attr-defined]
        head = b"\r\n".join(self._buffer)  # type: ignore[attr-defined]
        del self._buffer[:]  # type: ignore[attr-defined]
        self.send(head + message_body)


class _Watchdog:
    """One thread that shuts the socket of every attempt past its deadline: a blocked read or
    write then fails at once, however slowly the other side trickles its bytes."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Attempt]] = []
        self._order = itertools.count()
        self._condition = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="pars-webhook-deadlines", daemon=True)
        self._thread.start()

    def watch(self, attempt: _Attempt) -> None:
        with self._condition:
            sooner = not self._heap or attempt.deadline < self._heap[0][0]
            heapq.heappush(self._heap, (attempt.deadline, next(self._order), attempt))
            if sooner:  # the thread sleeps until the nearest deadline: woken only if that moved
                self._condition.notify()

    def _run(self) -> None:
        with self._condition:
            while not self._closed:
                while self._heap and (self._heap[0][2].finished or self._heap[0][0] <= time.monotonic()):
                    _, _, attempt = heapq.heappop(self._heap)
                    if not attempt.finished:
                        attempt.expire()
                wait = self._heap[0][0] - time.monotonic() if self._heap else None
                self._condition.wait(wait)

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify()
        self._thread.join(timeout=5)


@dataclass
class _Attempt:
    deadline: float
    connection: http.client.HTTPConnection | None = None
    finished: bool = False
    expired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expire(self) -> None:
        with self.lock:
            if self.finished:
                return
            self.expired = True
            sock = self.connection.sock if self.connection is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    def use(self, connection: http.client.HTTPConnection) -> None:
        with self.lock:
            self.connection = connection
            expired = self.expired
        if expired:
            self.expire()

    def finish(self) -> None:
        with self.lock:
            self.finished = True


@dataclass(frozen=True)
class _Queued:
    outgoing: Outgoing
    target: str  # the request target: the URL's path and query
    attempt: _Attempt
    started: float  # time.perf_counter() when submitted: the latency counts the wait for a thread
    done: Callable[[Result], None]


class _Host:
    """One endpoint host: the attempts waiting for it, at most ``limit`` sending threads for it
    at once (each with one connection, sending the host's attempts one after another while any
    wait: no thread hand-off per attempt), and the idle kept-alive connections."""

    def __init__(self, key: tuple[str, str, int | None], limit: int) -> None:
        self.key = key
        self.limit = limit
        self.waiting: deque[_Queued] = deque()
        self.running = 0  # sending threads at work for this host
        self._idle: list[GuardedConnection] = []
        self._lock = threading.Lock()

    def put(self, item: _Queued) -> bool:
        """Queues an attempt; True when a sending thread must be started for it."""
        with self._lock:
            self.waiting.append(item)
            if self.running < self.limit:
                self.running += 1
                return True
            return False

    def next(self) -> _Queued | None:
        """The next attempt for a sending thread of this host; None: the thread ends."""
        with self._lock:
            if self.waiting:
                return self.waiting.popleft()
            self.running -= 1
            return None

    def take(self) -> GuardedConnection | None:
        with self._lock:
            while self._idle:
                connection = self._idle.pop()
                if time.monotonic() - connection.used_at <= KEEPALIVE_SECONDS:
                    return connection
                connection.close()
            return None

    def give_back(self, connection: GuardedConnection) -> None:
        with self._lock:
            self._idle.append(connection)


def classify(exc: BaseException) -> DeliveryError:
    """The category of a failed attempt, from the exception and everything that caused it."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        item = todo.pop()
        if any(item is other for other in seen):
            continue
        seen.append(item)
        todo.extend(e for e in (item.__cause__, item.__context__) if e is not None)
    kinds = tuple(type(item) for item in seen)

    def has(*types: type[BaseException]) -> bool:
        return any(issubclass(kind, types) for kind in kinds)

    if has(ForbiddenTarget):
        return DeliveryError.FORBIDDEN_TARGET
    if has(ssl.SSLError, ssl.CertificateError):
        return DeliveryError.TLS_ERROR
    if has(TimeoutError, socket.timeout):
        return DeliveryError.TIMEOUT
    if has(ConnectionRefusedError):
        return DeliveryError.CONNECTION_REFUSED
    return DeliveryError.CONNECTION_ERROR


class WebhookSender:
    """Posts prepared attempts on a pool of sending threads, and hands each result to a callback
    as soon as it is known: a slow endpoint delays only its own attempts.

    At most ``per_host`` connections to one host at once, kept alive (HTTP/1.1 on
    ``http.client``): a delivery is then one write and one read on an open socket. Each host's
    attempts wait in its queue, and a sending thread of the host takes the next one as soon as
    its last is done: under load, no thread is woken per attempt (handing every attempt to a
    pool thread that then waited for a connection of its host cost more CPU than the sending
    itself, 300 against 115 us per send). (httpx's
    ``AsyncClient`` was measured too and delivered a small fraction as much: docs/feed.md.) A
    kept connection the receiver closed meanwhile is opened again once, before any response:
    the attempt is then sent again with the same ``webhook-id``, which delivery at least once
    allows. Redirects are not followed: an endpoint is the URL the partner registered, nothing
    else.

    ``threads`` must be at least the number of attempts the worker may have in hand (or the
    number of hosts times ``per_host``), so that no host ever waits for a thread behind
    another endpoint's slow ones."""

    def __init__(
        self,
        *,
        deadline: float,
        threads: int = 64,
        per_host: int = 16,
        targets: PrivateTargets = PrivateTargets.DENY,
        resolve: Resolver = system_resolver,
        wall: Callable[[], datetime] = _wall,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """``tls``: the certificates trusted for https endpoints; the system's by default (a
        test passes a context that trusts its own authority)."""
        self._deadline = deadline
        self._targets, self._resolve = targets, resolve
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pars-webhook")
        self._wall = wall
        self._per_host = per_host
        self._hosts: dict[tuple[str, str, int | None], _Host] = {}
        self._opened: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()
        self._signers: dict[str, Webhook] = {}
        self._tls = tls or ssl.create_default_context()
        self._watchdog = _Watchdog()

    def submit(self, outgoing: Outgoing, done: Callable[[Result], None]) -> None:
        """Queues the attempt for its host; ``done`` gets its result, on a sending thread, when
        known. The attempt's deadline runs from now: one that finds no connection to its host
        free within it fails without being sent."""
        started = time.perf_counter()
        attempt = _Attempt(time.monotonic() + self._deadline)
        parts = urlsplit(outgoing.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self._pool.submit(done, Result(outgoing, None, 0, classify(ValueError("not an http(s) URL"))))
            return
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = self._host((parts.scheme, parts.hostname, parts.port))
        if host.put(_Queued(outgoing, target, attempt, started, done)):
            self._pool.submit(self._run, host)

    def send_all(self, outgoing: Sequence[Outgoing]) -> list[Result]:
        """Every attempt at once; waits for all (tests, tools)."""
        results: list[Result | None] = [None] * len(outgoing)
        left = [len(outgoing)]
        finished = threading.Event()
        lock = threading.Lock()

        def keep(index: int) -> Callable[[Result], None]:
            def done(result: Result) -> None:
                results[index] = result
                with lock:
                    left[0] -= 1
                    if left[0] == 0:
                        finished.set()

            return done

        for index, item in enumerate(outgoing):
            self.submit(item, keep(index))
        if outgoing:
            finished.wait()
        return [result for result in results if result is not None]

    def send(self, outgoing: Outgoing) -> Result:
        """One attempt, never raising: a result with a status code, or a category of failure."""
        return self.send_all([outgoing])[0]

    def _run(self, host: _Host) -> None:
        """A sending thread of ``host``: its waiting attempts, one after another."""
        while (item := host.next()) is not None:
            result = self._attempt(host, item)
            try:
                item.done(result)
            except Exception:  # a callback's failure ends neither this thread nor the others' attempts
                log.exception("webhook result callback failed")

    def _attempt(self, host: _Host, item: _Queued) -> Result:
        outgoing, attempt = item.outgoing, item.attempt
        if time.monotonic() > outgoing.start_by:
            return Result(outgoing, None, 0, None, sent=False)
        if time.monotonic() >= attempt.deadline:  # no connection to the host came free in time
            return Result(outgoing, None, _since(item.started), DeliveryError.TIMEOUT)
        at = self._wall()
        self._watchdog.watch(attempt)
        try:
            status, pause_header = self._exchange(
                host, item.target, outgoing.body, self._headers(outgoing, at), attempt
            )
        except Exception as exc:  # noqa: BLE001 - any failure is a result
            error = DeliveryError.TIMEOUT if attempt.expired else classify(exc)
            return Result(outgoing, None, _since(item.started), error)
        finally:
            attempt.finish()
        latency = _since(item.started)
        pause = retry_after(pause_header, at) if status in RETRY_AFTER_STATUSES else None
        failure = None if 200 <= status < 300 else DeliveryError.HTTP_STATUS
        return Result(outgoing, status, latency, failure, pause)

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
            "user-agent": USER_AGENT,
            "accept-encoding": "identity",
        }

    def _exchange(
        self, host: _Host, target: str, body: bytes, headers: dict[str, str], attempt: _Attempt
    ) -> tuple[int, str | None]:
        connection = host.take()
        reused = connection is not None
        while True:
            if connection is None:
                connection = self._connect(*host.key)
            attempt.use(connection)
            try:
                if connection.sock is None:
                    connection.connect()
                    attempt.use(connection)  # the new socket, for the watchdog
                connection.request("POST", target, body=body, headers=headers)
                response = connection.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._release(connection)
                if not reused or attempt.expired:
                    raise
                connection, reused = None, False  # the receiver closed a kept connection: once more
                continue
            except BaseException:
                self._release(connection)
                raise
            status, pause = response.status, response.getheader("retry-after")
            try:
                response.read(RESPONSE_LIMIT)
                complete = response.isclosed() and not response.will_close
            except (OSError, http.client.HTTPException):
                complete = False  # the answer broke off or ran out of time: the status stands
            if complete and not attempt.expired:
                connection.used_at = time.monotonic()
                host.give_back(connection)
            else:
                self._release(connection)  # more than the limit, or unreadable: dropped
            return status, pause

    def _host(self, key: tuple[str, str, int | None]) -> _Host:
        with self._lock:
            host = self._hosts.get(key)
            if host is None:
                host = self._hosts[key] = _Host(key, self._per_host)
            return host

    def _connect(self, scheme: str, host: str, port: int | None) -> GuardedConnection:
        tls = self._tls if scheme == "https" else None
        connection = GuardedConnection(
            host, port, timeout=self._deadline, policy=self._targets, resolve=self._resolve, tls=tls
        )
        with self._lock:
            self._opened.add(connection)
        return connection

    def _release(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        with self._lock:
            self._opened.discard(connection)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._watchdog.close()
        with self._lock:
            for connection in self._opened:
                connection.close()
            self._opened.clear()


def _since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
