"""A hostile or unlucky world against a real `pars serve --no-worker` process (issue 13, items
2, 4, 5, 7), on SQLite and on PostgreSQL: slow-body clients without a key, a lock held on a table,
a booking whose answer was lost and is retried, NUL bytes in every text.

Every wait is for a condition, with a generous bound; only the promises of the contract are timed
(/healthz within a second, a 503 within the lock deadline), against budgets that grow with how
slowly this machine answers a plain /healthz before the trouble starts (tests/conftest.py), so a
busy machine does not fail them while a node that waits on the trouble still does. The figures
go to the run's reliability figures.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from pars.records.models import Arrest
from pars.records.search import SEARCH_PARAMETERS
from tests.conftest import User, arrest_body, baseline_seconds, health_answer, health_budget
from tests.scale.cluster import Cluster, Node

Figure = Callable[..., None]
BODY_SECONDS = 5
LOCK_SECONDS = 1
SLOW_CLIENTS = 20


@pytest.fixture(scope="module")
def server(database_url: str, audit_key_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """One server per database for the module (it keeps no state between requests)."""
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "PARS_DATABASE_URL": database_url,
        "PARS_AUDIT_KEY_FILE": str(audit_key_file),
        "PARS_HTTP_BODY_TIMEOUT": str(BODY_SECONDS),
        "PARS_DATABASE_LOCK_TIMEOUT": str(LOCK_SECONDS),
        "PARS_DATABASE_BUSY_TIMEOUT": str(LOCK_SECONDS),
        "PARS_DATABASE_STATEMENT_TIMEOUT": "3",
    }
    env.pop("PARS_NATS_URL", None)
    cluster = Cluster(env, tmp_path_factory.mktemp("serve"))
    node = cluster.serve(None)
    try:
        cluster.wait_ready(node)
        yield node
    finally:
        cluster.close()


@pytest.fixture
def url(server: Node, db: Engine) -> str:
    assert server.url is not None
    return server.url


def _health(url: str) -> httpx.Response:
    response = httpx.get(f"{url}/healthz", timeout=5)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "database": "ok"}
    return response


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


# --- slow clients --------------------------------------------------------------------------------


class Trickle:
    """Clients with no key that send their headers and then a byte of body now and then."""

    def __init__(self, port: int, count: int) -> None:
        self.sockets = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(
                b"POST /api/v1/arrests HTTP/1.1\r\nHost: pars\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000\r\n\r\n{"
            )
            self.sockets.append(sock)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.3):
            for sock in self.sockets:
                try:
                    sock.sendall(b" ")
                except OSError:
                    continue

    def answers(self) -> list[bytes]:
        """What each got once it stopped sending (b"" when nothing came in 30 s)."""
        self.stop.set()
        self.thread.join(5)
        replies = []
        try:
            for sock in self.sockets:
                try:
                    replies.append(sock.recv(4096))
                except OSError:
                    replies.append(b"")
        finally:
            for sock in self.sockets:
                sock.close()
        return replies


def test_slow_body_clients_without_a_key_do_not_take_the_node_offline(url: str, booking: User, figures: Figure) -> None:
    baseline = baseline_seconds(lambda: _health(url))
    budget = health_budget(baseline)
    slow = Trickle(_port(url), SLOW_CLIENTS)
    try:
        # /healthz answers at once, with all of them in flight (a node that let them hold its
        # admission slots would answer after the body deadline, BODY_SECONDS).
        _, health = health_answer(lambda: _health(url), baseline)
        print(f"{SLOW_CLIENTS} slow clients: /healthz in {health * 1000:.0f} ms")
        figures(f"/healthz with {SLOW_CLIENTS} slow-body clients", health, limit=budget)
        assert health < budget
        # A normal keyed request is served meanwhile.
        booked = httpx.post(
            f"{url}/api/v1/arrests",
            json=arrest_body(),
            headers={**booking.headers, "Idempotency-Key": "slow-neighbours"},
            timeout=30,
        )
        assert booked.status_code == 201, booked.text
        assert httpx.get(f"{url}/api/v1/agencies", headers=booking.headers, timeout=30).status_code == 200
    finally:
        replies = slow.answers()
    # Each slow client got 408 at the body deadline (nobody answered them 401 before their body came).
    assert all(reply.startswith(b"HTTP/1.1 408") for reply in replies), replies[:2]
    assert all(b"application/problem+json" in reply for reply in replies)


# --- a held lock -------------------------------------------------------------------------------------


def test_a_held_lock_gives_503_with_retry_after_and_health_stays_up(
    url: str, booking: User, reader_engine: Engine, session: Session, figures: Figure
) -> None:
    baseline = baseline_seconds(lambda: _health(url))
    with reader_engine.connect() as holder:
        if holder.dialect.name == "postgresql":
            holder.execute(text("LOCK TABLE arrests IN ACCESS EXCLUSIVE MODE"))
        else:
            holder.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite's one write lock
        headers = {**booking.headers, "Idempotency-Key": "under-lock"}
        started = time.monotonic()
        refused = httpx.post(f"{url}/api/v1/arrests", json=arrest_body(), headers=headers, timeout=30)
        waited = time.monotonic() - started
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        # The lock deadline, and some seconds for a busy machine: not a hang (the request's own
        # 30 s timeout would end that).
        figures("503 under a held lock", waited, limit=LOCK_SECONDS + 5 + 5 * baseline)
        assert waited < LOCK_SECONDS + 5 + 5 * baseline
        searched = httpx.get(f"{url}/api/v1/arrests", headers=booking.headers, timeout=30)
        assert searched.status_code == 503 and "retry-after" in searched.headers
        _, health = health_answer(lambda: _health(url), baseline)
        print(
            f"held lock: 503 after {waited * 1000:.0f} ms (lock timeout {LOCK_SECONDS} s), /healthz {health * 1000:.0f} ms"
        )
        figures("/healthz under a held lock", health, limit=health_budget(baseline))
        assert health < health_budget(baseline)
        metrics = httpx.get(f"{url}/metrics", timeout=5)
        assert metrics.status_code == 200 and "pars_http_requests_total" in metrics.text
        holder.rollback()
    # Released: the retry with the same key does the work once.
    booked = httpx.post(f"{url}/api/v1/arrests", json=arrest_body(), headers=headers, timeout=30)
    assert booked.status_code == 201, booked.text
    assert session.scalar(select(func.count()).select_from(Arrest)) == 1


# --- a lost answer ------------------------------------------------------------------------------------


def test_a_booking_retried_after_a_dropped_connection_creates_one_arrest(
    url: str, booking: User, session: Session
) -> None:
    body = json.dumps(arrest_body(arrest={**arrest_body()["arrest"], "incident_number": "2624099999"})).encode()
    key = "lost-answer-0001"

    def booked() -> int:
        session.expire_all()
        where = Arrest.incident_number == "2624099999"
        return session.scalar(select(func.count()).select_from(Arrest).where(where)) or 0

    request = (
        b"POST /api/v1/arrests HTTP/1.1\r\nHost: pars\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {booking.key}\r\nIdempotency-Key: {key}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    with socket.create_connection(("127.0.0.1", _port(url)), timeout=30) as sock:
        sock.sendall(request)
        deadline = time.monotonic() + 30
        while booked() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert booked() == 1
    # The client never read its answer: the connection is gone.

    retried = httpx.post(
        f"{url}/api/v1/arrests",
        content=body,
        headers={**booking.headers, "Idempotency-Key": key, "Content-Type": "application/json"},
        timeout=30,
    )
    assert retried.status_code == 201, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    stored = session.scalars(select(Arrest).where(Arrest.incident_number == "2624099999")).one()
    assert retried.json()["id"] == str(stored.id)
    assert booked() == 1


# --- NUL bytes ---------------------------------------------------------------------------------------------


def _request(
    connection: http.client.HTTPConnection, method: str, path: str, body: Any, headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    payload = json.dumps(body).encode() if body is not None else None
    connection.request(method, path, body=payload, headers={**headers, "Content-Type": "application/json"})
    response = connection.getresponse()
    answer = json.loads(response.read() or b"null")
    return response.status, answer


def test_nul_bytes_anywhere_are_422_or_400_and_the_connection_stays_usable(
    url: str, booking: User, session: Session
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", _port(url), timeout=30)
    connection.connect()
    sock = connection.sock
    try:
        for path, value in [
            (("person", "name", "last"), "Pe\x00a"),
            (("person", "name", "first"), "\x00"),
            (("narrative",), "Officers\x00 responded"),
            (("arrest", "incident_number"), "2624\x00001234"),
        ]:
            body = arrest_body()
            target: Any = body
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = value
            status, problem = _request(connection, "POST", "/api/v1/arrests", body, booking.headers)
            assert status == 422, problem
            assert problem["errors"][0]["field"] == ".".join(path)
        for parameter in sorted(SEARCH_PARAMETERS):
            status, problem = _request(connection, "GET", f"/api/v1/arrests?{parameter}=A%00B", None, booking.headers)
            assert status == 400, problem
            assert parameter in problem["detail"]
        # The same connection, never reset, still serves a good request.
        status, record = _request(connection, "POST", "/api/v1/arrests", arrest_body(), booking.headers)
        assert status == 201 and record["person"]["name"]["last"] == "Peña"
        assert connection.sock is sock
    finally:
        connection.close()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Arrest)) == 1
