"""CONTRACT §10: the audit trail, its verification and its checkpoint over HTTP; reading any of
them is itself audited; a failed request leaves no entry of its change, a refused one its
refusal (CONTRACT §3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from pars.api.deps import SessionDep
from pars.audit import AuditAction, record_event
from pars.audit.canonical import checkpoint_message
from pars.audit.models import AuditEntry
from pars.audit.signing import Signer, signature_valid
from pars.auth.deps import ActorDep
from pars.errors import Conflict, Refusal
from pars.permissions import Role
from tests.audit.conftest import tampering
from tests.conftest import User, audit_actions


@pytest.fixture
def oversight(make_user: Callable[..., User]) -> User:
    return make_user(Role.OVERSIGHT, agency="CITY")


def test_oversight_reads_the_trail_newest_first_with_cursors(
    client: TestClient, oversight: User, book: Callable[..., dict[str, Any]], session: Session
) -> None:
    for _ in range(3):
        book()
    first = client.get("/api/v1/audit", params={"limit": 2}, headers=oversight.headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [set(item) for item in page["items"]] == [
        {"seq", "at", "actor", "agency", "action", "outcome", "target", "details", "hash"}
    ] * 2
    seqs = [item["seq"] for item in page["items"]]
    assert seqs == sorted(seqs, reverse=True) and page["next_cursor"]
    second = client.get(
        "/api/v1/audit", params={"limit": 2, "cursor": page["next_cursor"]}, headers=oversight.headers
    ).json()
    assert [item["seq"] for item in second["items"]] == [seqs[-1] - 1, seqs[-1] - 2]
    stored = session.scalars(select(AuditEntry).where(AuditEntry.seq == seqs[0])).one()
    assert page["items"][0]["hash"] == stored.hash


def test_filters(client: TestClient, oversight: User, booking: User, book: Callable[..., dict[str, Any]]) -> None:
    record = book()
    client.get("/api/v1/arrests", params={"place_of_birth": "x"}, headers=booking.headers)  # a refused probe

    def items(**params: str) -> list[dict[str, Any]]:
        response = client.get("/api/v1/audit", params=params, headers=oversight.headers)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["items"]
        return found

    created = items(action="arrest.create")
    assert [e["target"] for e in created] == [record["id"]] and created[0]["actor"] == booking.id
    assert {e["action"] for e in items(action="arrest.*")} == {"arrest.create", "arrest.search"}
    assert [e["action"] for e in items(outcome="refused", agency="PPD")] == ["arrest.search"]
    assert {e["actor"] for e in items(actor=booking.id)} == {booking.id}
    assert items(**{"from": "2026-03-18"}) == []  # the clock is on March 17, city time
    assert len(items(**{"from": "2026-03-17", "to": "2026-03-17"})) >= 2
    assert items(to="2026-03-17T19:00:00+00:00") == []  # exclusive: every entry is at that instant
    for bad in ({"actor": "nobody"}, {"outcome": "maybe"}, {"from": "yesterday"}, {"to": "2026-03-17T10:00:00"}):
        response = client.get("/api/v1/audit", params=bad, headers=oversight.headers)
        assert response.status_code == 422, bad
        assert response.headers["content-type"] == "application/problem+json"


def test_reading_the_trail_is_audited(client: TestClient, oversight: User, session: Session) -> None:
    client.get("/api/v1/audit", params={"action": "auth.*", "limit": 5}, headers=oversight.headers)
    client.get("/api/v1/audit/verify", headers=oversight.headers)
    client.get("/api/v1/audit/checkpoint", headers=oversight.headers)
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action.like("audit.%")).order_by(AuditEntry.seq))
    read, verified, checkpoint = entries.all()
    assert (read.action, read.actor_id is not None, read.details) == (
        "audit.read", True, {"filters": {"action": "auth.*"}, "results": read.details["results"]},
    )  # fmt: skip
    assert verified.action == "audit.verify" and verified.details["ok"] is True
    assert checkpoint.action == "audit.checkpoint_read" and checkpoint.details["size"] >= 1


@pytest.mark.parametrize("role", ["admin", "booking", "charging", "magistrate", "governance", "partner"])
def test_only_oversight_reads_the_trail(
    client: TestClient, make_user: Callable[..., User], admin: User, role: str, session: Session
) -> None:
    user = admin if role == "admin" else make_user(Role(role), agency="DAO" if role != "partner" else None)
    for path in ("/api/v1/audit", "/api/v1/audit/verify", "/api/v1/disclosures?arrest_id=" + "0" * 32):
        response = client.get(path, headers=user.headers)
        assert response.status_code == 403, (path, response.text)
    assert audit_actions(session)[-1] == ("auth.denied", "refused")
    assert client.get("/api/v1/audit/checkpoint", headers=user.headers).status_code == 200


def test_verify_over_http(client: TestClient, oversight: User, db: Engine) -> None:
    response = client.get("/api/v1/audit/verify", headers=oversight.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["first_bad_seq"] is None and body["entries"] >= 5 and body["problems"] == []
    with tampering(db) as conn:
        conn.execute(text("UPDATE audit_entries SET target = 'elsewhere' WHERE seq = 3"))
    body = client.get("/api/v1/audit/verify", headers=oversight.headers).json()
    assert (body["ok"], body["first_bad_seq"]) == (False, 3)
    assert body["problems"][0] == {
        "seq": 3,
        "checkpoint": None,
        "reason": "altered: its content does not match its hash",
    }


def test_the_published_checkpoint_verifies_with_its_public_key(
    client: TestClient, booking: User, signer: Signer, session: Session
) -> None:
    response = client.get("/api/v1/audit/checkpoint", headers=booking.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"size", "head", "at", "signature", "public_key"}
    assert body["public_key"] == signer.public_key
    stored = session.scalars(select(AuditEntry).where(AuditEntry.seq == body["size"])).one()
    assert body["head"] == stored.hash
    checkpoint_at = session.execute(text("SELECT at FROM audit_checkpoints WHERE size = :s"), {"s": body["size"]})
    assert checkpoint_at.scalar_one() is not None
    message = checkpoint_message(size=body["size"], head=body["head"], at=datetime.fromisoformat(body["at"]))
    assert signature_valid(body["public_key"], body["signature"], message)


def _add_failing_route(client: TestClient) -> None:
    """A change that fails after it was made and audited, and one that is refused."""

    def fail(session: SessionDep, actor: ActorDep, refuse: bool = False) -> None:
        record_event(session, actor, AuditAction.ARREST_CREATE, "a change that will not happen")
        raise Conflict("failed", refusal=Refusal(AuditAction.ARREST_CREATE, "refused target") if refuse else None)

    client.app.add_api_route("/api/v1/test-fail", fail, methods=["POST"])  # type: ignore[attr-defined]


def test_a_failed_request_leaves_no_entry_of_its_change_but_a_refusal_stays(
    client: TestClient, booking: User, session: Session
) -> None:
    _add_failing_route(client)
    before = audit_actions(session)
    assert client.post("/api/v1/test-fail", headers=booking.headers).status_code == 409
    assert audit_actions(session) == before
    assert client.post("/api/v1/test-fail?refuse=true", headers=booking.headers).status_code == 409
    after = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert (after.action, after.outcome, after.target) == ("arrest.create", "refused", "refused target")
    assert audit_actions(session)[:-1] == before


def test_a_step_refused_by_the_workflow_changes_nothing(
    client: TestClient, walk: Callable[..., dict[str, Any]], charging: User, session: Session
) -> None:
    record = walk("charges_approved")
    before = audit_actions(session)
    again = client.post(
        f"/api/v1/arrests/{record['id']}/charging-decision", json={"decision": "approved"}, headers=charging.headers
    )
    assert again.status_code == 409
    assert [a for a in audit_actions(session)[len(before) :] if a[0] == "arrest.charging_decision"] == []
