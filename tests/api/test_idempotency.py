"""CONTRACT §3: a POST retried with the same Idempotency-Key gets the first answer and changes
nothing; the same key with another request is 422; keys are per user and last 24 hours."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pars.api.models import IdempotencyKey
from pars.audit.models import AuditEntry
from pars.clock import FrozenClock
from pars.outbox.events import OutboxEvent
from pars.permissions import Role
from pars.records.models import Arrest
from tests.conftest import User, arrest_body


def _count(session: Session, model: type[Any]) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def _keyed(user: User, key: str) -> dict[str, str]:
    return {**user.headers, "Idempotency-Key": key}


def test_a_retried_booking_returns_the_first_answer_and_changes_nothing(
    client: TestClient, booking: User, session: Session
) -> None:
    first = client.post("/api/v1/arrests", json=arrest_body(), headers=_keyed(booking, "booking-7f3a"))
    assert first.status_code == 201
    entries, events = _count(session, AuditEntry), _count(session, OutboxEvent)

    again = client.post("/api/v1/arrests", json=arrest_body(), headers=_keyed(booking, "booking-7f3a"))

    assert again.status_code == 201
    assert again.content == first.content  # the same id and tracking number, byte for byte
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["idempotent-replayed"] == "true"
    assert _count(session, Arrest) == 1
    assert (_count(session, AuditEntry), _count(session, OutboxEvent)) == (entries, events)


def test_the_same_body_with_other_spacing_or_member_order_is_the_same_request(
    client: TestClient, booking: User, session: Session
) -> None:
    body = arrest_body()
    first = client.post("/api/v1/arrests", json=body, headers=_keyed(booking, "k1"))
    reordered = dict(reversed(list(body.items())))
    text = json.dumps(reordered, indent=2)
    again = client.post(
        "/api/v1/arrests", content=text, headers={**_keyed(booking, "k1"), "Content-Type": "application/json"}
    )
    assert again.status_code == 201 and again.json() == first.json()
    assert _count(session, Arrest) == 1


def test_the_same_key_with_another_body_is_422_and_changes_nothing(
    client: TestClient, booking: User, session: Session
) -> None:
    client.post("/api/v1/arrests", json=arrest_body(), headers=_keyed(booking, "k2"))
    other = client.post("/api/v1/arrests", json=arrest_body(narrative="another"), headers=_keyed(booking, "k2"))
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _count(session, Arrest) == 1


def test_the_same_key_on_another_path_is_422(
    client: TestClient, booking: User, book: Callable[..., dict[str, Any]], session: Session
) -> None:
    arrest = book()
    key = _keyed(booking, "k3")
    assert client.post("/api/v1/arrests", json=arrest_body(), headers=key).status_code == 201
    moved = client.post(f"/api/v1/arrests/{arrest['id']}/commitment", json={"facility": "CFCF"}, headers=key)
    assert moved.status_code == 422


def test_keys_belong_to_one_user(
    client: TestClient, booking: User, make_user: Callable[..., User], session: Session
) -> None:
    other = make_user(Role.BOOKING)
    mine = client.post("/api/v1/arrests", json=arrest_body(), headers=_keyed(booking, "shared-key"))
    theirs = client.post("/api/v1/arrests", json=arrest_body(), headers=_keyed(other, "shared-key"))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert _count(session, Arrest) == 2


def test_a_key_is_forgotten_after_24_hours(
    client: TestClient, booking: User, clock: FrozenClock, session: Session
) -> None:
    first = client.post("/api/v1/arrests", json=arrest_body(), headers=_keyed(booking, "daily"))
    clock.advance(timedelta(hours=23, minutes=59))
    assert client.post("/api/v1/arrests", json=arrest_body(), headers=_keyed(booking, "daily")).content == first.content
    clock.advance(timedelta(minutes=2))
    later = client.post("/api/v1/arrests", json=arrest_body(), headers=_keyed(booking, "daily"))
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]
    assert _count(session, Arrest) == 2


def test_expired_keys_of_every_user_are_purged_on_use(
    client: TestClient, booking: User, make_user: Callable[..., User], clock: FrozenClock, session: Session
) -> None:
    other = make_user(Role.BOOKING)
    for n in range(3):
        client.post("/api/v1/arrests", json=arrest_body(narrative=f"n{n}"), headers=_keyed(other, f"old-{n}"))
    assert _count(session, IdempotencyKey) == 3
    clock.advance(timedelta(hours=25))
    client.post("/api/v1/arrests", json=arrest_body(), headers=_keyed(booking, "new"))
    assert _count(session, IdempotencyKey) == 1


def test_a_failed_request_stores_nothing_and_its_retry_runs_again(
    client: TestClient, booking: User, session: Session
) -> None:
    refused = client.post("/api/v1/arrests", json=arrest_body(charges=[]), headers=_keyed(booking, "k4"))
    assert refused.status_code == 422
    assert _count(session, IdempotencyKey) == 0
    fixed = client.post("/api/v1/arrests", json=arrest_body(), headers=_keyed(booking, "k4b"))
    assert fixed.status_code == 201


@pytest.mark.parametrize("key", [b"", b"x" * 256, "caf\u00e9".encode("latin-1"), b"tab\there"])
def test_a_malformed_key_is_400_and_changes_nothing(
    client: TestClient, booking: User, session: Session, key: bytes
) -> None:
    headers: dict[str, str | bytes] = {**booking.headers, "Idempotency-Key": key}
    response = client.post("/api/v1/arrests", json=arrest_body(), headers=headers)
    assert response.status_code == 400, response.text
    assert "Idempotency-Key" in response.json()["detail"]
    assert _count(session, Arrest) == 0


def test_a_key_of_255_printable_characters_is_accepted(client: TestClient, booking: User) -> None:
    headers = _keyed(booking, "k" * 254 + "~")
    assert client.post("/api/v1/arrests", json=arrest_body(), headers=headers).status_code == 201


def test_every_creating_post_replays(client: TestClient, admin: User, session: Session) -> None:
    """A new user's answer carries its API key: the retry gets the same key, and no second user."""
    body = {"agency": "PARS", "name": "Second administrator", "roles": ["admin"]}
    first = client.post("/api/v1/users", json=body, headers=_keyed(admin, "new-admin"))
    again = client.post("/api/v1/users", json=body, headers=_keyed(admin, "new-admin"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert (
        client.get("/api/v1/agencies", headers={"Authorization": f"Bearer {first.json()['api_key']}"}).status_code
        == 200
    )


def test_stored_answers_are_sealed(client: TestClient, admin: User, booking: User, session: Session) -> None:
    """Neither the key nor what the answer carries (names, a new API key) is readable in the table."""
    new_user = client.post(
        "/api/v1/users",
        json={"agency": "PARS", "name": "Another administrator", "roles": ["admin"]},
        headers=_keyed(admin, "sealed-1"),
    ).json()
    client.post("/api/v1/arrests", json=arrest_body(), headers=_keyed(booking, "sealed-2"))
    session.expire_all()
    rows = session.scalars(select(IdempotencyKey)).all()
    assert len(rows) == 2
    for row in rows:
        assert row.answer is not None
        stored = row.answer + row.key_hash.encode() + row.fingerprint.encode()
        for secret in (new_user["api_key"], "Peña", "Ana", "sealed-1", "sealed-2"):
            assert secret.encode() not in stored


def test_a_duplicate_sent_while_the_first_runs_gets_the_first_answer(
    client: TestClient, booking: User, session: Session
) -> None:
    """Concurrent duplicates wait for the first (the key's row, or SQLite's one writer) and then
    replay its answer: one arrest, the same answer for all."""
    results: list[Any] = []

    def send() -> None:
        results.append(client.post("/api/v1/arrests", json=arrest_body(), headers=_keyed(booking, "raced")))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [r.status_code for r in results] == [201] * 4
    assert len({r.content for r in results}) == 1
    assert _count(session, Arrest) == 1
