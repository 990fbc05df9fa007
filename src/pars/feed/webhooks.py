"""Sending webhooks: Standard Webhooks signatures and the HTTP client. No database here: the
worker prepares what to send in one short transaction, sends outside any transaction, and
records the results in another.

The ``webhook-timestamp`` is the wall-clock instant of the attempt, not the service clock:
receivers compare it with their own clock to refuse replays, which is what it is for.
"""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
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

    Redirects are not followed: an endpoint is the URL the partner registered, nothing else."""

    def __init__(self, *, timeout: float, concurrency: int = 16, wall: Callable[[], datetime] = _wall) -> None:
        self._client = httpx.Client(timeout=timeout, follow_redirects=False, headers={"user-agent": USER_AGENT})
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="pars-webhook")
        self._wall = wall

    def send_all(self, outgoing: Sequence[Outgoing]) -> list[Result]:
        if len(outgoing) == 1:
            return [self.send(outgoing[0])]
        return list(self._pool.map(self.send, outgoing))

    def send(self, outgoing: Outgoing) -> Result:
        at = self._wall()
        headers = signed_headers(outgoing.secret, str(outgoing.event_id), outgoing.body, at)
        started = time.perf_counter()
        try:
            response = self._client.post(outgoing.url, content=outgoing.body, headers=headers)
        except httpx.TimeoutException as exc:
            return Result(outgoing, None, _since(started), f"timeout: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return Result(outgoing, None, _since(started), f"{type(exc).__name__}: {exc}"[:500])
        latency = _since(started)
        status = response.status_code
        pause = retry_after(response.headers.get("retry-after"), at) if status in RETRY_AFTER_STATUSES else None
        error = None if 200 <= status < 300 else f"HTTP {status}"
        return Result(outgoing, status, latency, error, pause)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._client.close()


def _since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
