"""CJIS Security Policy 5.5.3: five failed attempts in a row lock a key for ten minutes; each
step is audited; the clock is injected, never slept on."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.audit.models import AuditEntry
from pars.auth.keys import digest, key_id_of, new_key
from pars.auth.models import ApiKey
from pars.clock import FrozenClock
from pars.permissions import Role
from tests.conftest import ADMIN_KEY, User

AGENCIES = "/api/v1/agencies"


@pytest.fixture
def clerk(make_user: Callable[..., User]) -> User:
    return make_user(Role.BOOKING)


def _wrong(user: User) -> dict[str, str]:
    key_id = key_id_of(user.key)
    return {"Authorization": f"Bearer pars_{key_id}_{'x' * 43}"}


def _auth_entries(session: Session, user: User) -> list[tuple[str, str, dict[str, object]]]:
    session.expire_all()
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.like("auth.%"), AuditEntry.target == user.id)
        .order_by(AuditEntry.seq)
    )
    return [(e.action, e.outcome, e.details) for e in rows]


def test_keys_name_their_public_id() -> None:
    key = new_key()
    assert re.fullmatch(r"pars_[A-Za-z0-9]{10}_[A-Za-z0-9_-]{43}", key)
    assert key_id_of(key) == key[5:15]
    assert key_id_of("pars_short_secret") is None and key_id_of(ADMIN_KEY) is None
    assert key_id_of("pars_abcdefghij_") is None and key_id_of("other_abcdefghij_secret") is None


def test_five_failures_lock_the_key_for_ten_minutes(
    client: TestClient, clerk: User, clock: FrozenClock, session: Session
) -> None:
    assert client.get(AGENCIES, headers=clerk.headers).status_code == 200  # first use
    for _ in range(5):
        response = client.get(AGENCIES, headers=_wrong(clerk))
        assert response.status_code == 401
        assert response.json()["detail"] == "the API key is not valid"
    locked = client.get(AGENCIES, headers=clerk.headers)
    assert locked.status_code == 401
    assert "locked" in locked.json()["detail"] and "2026-03-17T19:10:00+00:00" in locked.json()["detail"]
    assert client.get(AGENCIES, headers=_wrong(clerk)).status_code == 401  # does not extend the lock
    clock.advance(timedelta(minutes=9, seconds=59))
    assert client.get(AGENCIES, headers=clerk.headers).status_code == 401
    clock.advance(timedelta(seconds=1))
    assert client.get(AGENCIES, headers=clerk.headers).status_code == 200
    assert client.get(AGENCIES, headers=clerk.headers).status_code == 200

    key_id = key_id_of(clerk.key)
    wrong = ("auth.failed", "refused", {"reason": "wrong secret", "key_id": key_id})
    refused_locked = ("auth.failed", "refused", {"reason": "locked", "key_id": key_id})
    assert _auth_entries(session, clerk) == [
        ("auth.succeeded", "ok", {"key_id": key_id, "first_use": True}),
        *[wrong] * 5,
        ("auth.locked", "ok", {"key_id": key_id, "failures": 5, "locked_until": "2026-03-17T19:10:00+00:00"}),
        refused_locked,
        refused_locked,
        refused_locked,
        ("auth.succeeded", "ok", {"key_id": key_id, "lock_ended": "2026-03-17T19:10:00+00:00"}),
    ]
    stored = session.scalars(select(ApiKey).where(ApiKey.key_id == key_id)).one()
    assert (stored.failures, stored.locked_until) == (0, None)


def test_a_success_resets_the_count(client: TestClient, clerk: User, session: Session) -> None:
    for _ in range(4):
        client.get(AGENCIES, headers=_wrong(clerk))
    assert client.get(AGENCIES, headers=clerk.headers).status_code == 200
    for _ in range(4):
        client.get(AGENCIES, headers=_wrong(clerk))
    assert client.get(AGENCIES, headers=clerk.headers).status_code == 200
    actions = [a for a, _, _ in _auth_entries(session, clerk)]
    assert "auth.locked" not in actions
    successes = [d for a, _, d in _auth_entries(session, clerk) if a == "auth.succeeded"]
    assert [s.get("failures_before") for s in successes] == [4, 4]


def test_failures_on_one_key_do_not_lock_another(
    client: TestClient, clerk: User, make_user: Callable[..., User]
) -> None:
    other = make_user(Role.BOOKING)
    for _ in range(5):
        client.get(AGENCIES, headers=_wrong(clerk))
    assert client.get(AGENCIES, headers=clerk.headers).status_code == 401
    assert client.get(AGENCIES, headers=other.headers).status_code == 200


def test_an_unknown_key_is_refused_and_counted_nowhere(client: TestClient, session: Session) -> None:
    for key in ("pars_AAAAAAAAAA_nothing", "not a pars key at all"):
        response = client.get(AGENCIES, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 401
    session.expire_all()
    refused = session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.failed")).all()
    assert [(e.target, e.details) for e in refused] == [(None, {"reason": "unknown key"})] * 2
    assert set(session.scalars(select(ApiKey.failures))) == {0}


def test_the_failure_count_survives_the_rollback_of_its_request(
    client: TestClient, clerk: User, session: Session
) -> None:
    client.get(AGENCIES, headers=_wrong(clerk))
    client.get(AGENCIES, headers=_wrong(clerk))
    session.expire_all()
    stored = session.scalars(select(ApiKey).where(ApiKey.digest == digest(clerk.key))).one()
    assert stored.failures == 2


def test_the_administrator_key_from_the_environment_still_works(client: TestClient, admin: User) -> None:
    assert client.get(AGENCIES, headers=admin.headers).status_code == 200


def test_first_use_is_audited_once(client: TestClient, clerk: User, session: Session) -> None:
    for _ in range(3):
        client.get(AGENCIES, headers=clerk.headers)
    assert [a for a, _, _ in _auth_entries(session, clerk)] == ["auth.succeeded"]
