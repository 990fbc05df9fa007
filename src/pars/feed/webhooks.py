"""Sending webhooks: Standard Webhooks signatures and the HTTP client. No database here: the
worker prepares what to send in one short transaction, sends outside any transaction, and
records the results in another.

The ``webhook-timestamp`` is the wall-clock instant of the attempt, not the service clock:
receivers compare it with their own clock to refuse replays, which is what it is for.
"""

from __future__ import annotations

import base64
import http.client
import secrets
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from standardwebhooks import Webhook

from pars.feed.events import CONTENT_TYPE

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
# A receiver may ask for a pause with Retry-After on these.
RETRY_AFTER_STATUSES = frozenset({429, 503})
GONE = 410
USER_AGENT = "PARS-webhooks/1"


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


@dataclass(frozen=True)
class Result:
    outgoing: Outgoing
    status_code: int | None
    latency_ms: int
    error: str | None
    retry_after: timedelta | None = None

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


class WebhookSender:
    """Posts prepared attempts, several at once (one per arrest at most, the claim sees to that).

    Each sending thread keeps one HTTP/1.1 keep-alive connection per endpoint host, on
    ``http.client``: a delivery is then one write and one read on an open socket. (httpx cost
    about five times as much processor time per request, which bounded the worker's throughput.)
    A kept connection the receiver closed meanwhile is opened again once, before any response:
    the attempt is then sent again with the same ``webhook-id``, which delivery at least once
    allows. Redirects are not followed: an endpoint is the URL the partner registered, nothing
    else."""

    def __init__(self, *, timeout: float, concurrency: int = 16, wall: Callable[[], datetime] = _wall) -> None:
        self._timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="pars-webhook")
        self._wall = wall
        self._local = threading.local()
        # Every connection open (a sending thread keeps it): closed at the end.
        self._opened: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()
        self._signers: dict[str, Webhook] = {}
        self._tls = ssl.create_default_context()

    def send_all(self, outgoing: Sequence[Outgoing]) -> list[Result]:
        if len(outgoing) == 1:
            return [self.send(outgoing[0])]
        return list(self._pool.map(self.send, outgoing))

    def start(self, outgoing: Sequence[Outgoing]) -> Callable[[], list[Result]]:
        """Sends in the background; the returned function waits for the results, in order."""
        futures = [self._pool.submit(self.send, item) for item in outgoing]
        return lambda: [future.result() for future in futures]

    def send(self, outgoing: Outgoing) -> Result:
        at = self._wall()
        headers = self._headers(outgoing, at)
        started = time.perf_counter()
        try:
            status, pause_header = self._post(outgoing.url, outgoing.body, headers)
        except TimeoutError as exc:
            return Result(outgoing, None, _since(started), f"timeout: {type(exc).__name__}")
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return Result(outgoing, None, _since(started), f"{type(exc).__name__}: {exc}"[:500])
        latency = _since(started)
        pause = retry_after(pause_header, at) if status in RETRY_AFTER_STATUSES else None
        error = None if 200 <= status < 300 else f"HTTP {status}"
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
            "user-agent": USER_AGENT,
        }

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str | None]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        key = (parts.scheme, parts.hostname, parts.port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        kept: dict[tuple[str, str, int | None], http.client.HTTPConnection] = self._local.__dict__.setdefault(
            "connections", {}
        )
        connection = kept.pop(key, None)
        reused = connection is not None
        while True:
            if connection is None:
                connection = self._connect(*key)
            try:
                connection.request("POST", target, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._release(connection)
                if not reused:
                    raise
                connection, reused = None, False  # the receiver closed a kept connection: once more
                continue
            except BaseException:
                self._release(connection)
                raise
            if response.will_close:
                self._release(connection)
            else:
                kept[key] = connection
            return response.status, response.getheader("retry-after")

    def _connect(self, scheme: str, host: str, port: int | None) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = http.client.HTTPSConnection(host, port, timeout=self._timeout, context=self._tls)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self._timeout)
        with self._lock:
            self._opened.add(connection)
        return connection

    def _release(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        with self._lock:
            self._opened.discard(connection)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._lock:
            for connection in self._opened:
                connection.close()
            self._opened.clear()


def _since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
