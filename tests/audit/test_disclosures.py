"""CONTRACT §10: the accounting of disclosures lists exactly what left, per record and per
person: who, when, under which agreement version, for which purpose and case, which fields."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from pars.actors import Actor, PartnerActor
from pars.audit import AuditAction, record_disclosure
from pars.audit.chain import CheckpointPolicy, request_checkpoint
from pars.audit.disclosures import Disclosed, record_disclosures
from pars.audit.models import AuditCheckpoint, AuditEntry, Disclosure
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.permissions import Role
from pars.work import unit_of_work
from tests.conftest import User

AGREEMENT = uuid.uuid4()
ARREST_A, ARREST_B, ARREST_C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
PERSON_1, PERSON_2 = uuid.uuid4(), uuid.uuid4()


@pytest.fixture
def oversight(make_user: Callable[..., User]) -> User:
    return make_user(Role.OVERSIGHT, agency="CITY")


@pytest.fixture
def agent(make_user: Callable[..., User]) -> Actor:
    user = make_user(Role.PARTNER, agency="FBI")
    return PartnerActor(user_id=uuid.UUID(user.id), agency_code="FBI", roles=frozenset({Role.PARTNER}))


@pytest.fixture
def disclosed(db: Engine, clock: FrozenClock, agent: Actor, policy: CheckpointPolicy) -> None:
    """Three batches: a search that found A and B (one person), a read of A under a newer
    version, and a read of C (another person) with no case reference."""
    factory = make_session_factory(db)
    batches = [
        (AuditAction.ARREST_SEARCH, 1, "FBI-1", [(ARREST_A, PERSON_1), (ARREST_B, PERSON_1)], ["person.name", "id"]),
        (AuditAction.ARREST_READ, 2, "FBI-2", [(ARREST_A, PERSON_1)], ["person.dob", "charges", "id"]),
        (AuditAction.ARREST_READ, 2, None, [(ARREST_C, PERSON_2)], ["id"]),
    ]
    for action, version, case, records, fields in batches:
        clock.advance(timedelta(minutes=5))
        with unit_of_work(factory, clock, policy=policy) as session:
            record_disclosure(
                session, agent, action, agreement_id=AGREEMENT, agreement_version=version,
                purpose="criminal_investigation", case_reference=case, channel="query", records=records, fields=fields,
            )  # fmt: skip


def test_one_entry_per_batch_one_row_per_record(disclosed: None, session: Session, agent: Actor) -> None:
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.agency == "FBI").order_by(AuditEntry.seq)
    ).all()  # fmt: skip
    search, read_a, read_c = entries
    assert (search.action, search.target, search.outcome) == ("arrest.search", None, "ok")
    assert search.details == {
        "agreement_id": str(AGREEMENT), "agreement_version": 1, "purpose": "criminal_investigation",
        "case_reference": "FBI-1", "channel": "query", "records": [str(ARREST_A), str(ARREST_B)],
        "fields": ["id", "person.name"],
    }  # fmt: skip
    assert (read_a.target, read_a.details["records"]) == (str(ARREST_A), [str(ARREST_A)])
    assert read_c.details["case_reference"] is None
    rows = session.scalars(select(Disclosure).order_by(Disclosure.id)).all()
    assert [(r.arrest_id, r.person_id) for r in rows] == [
        (ARREST_A, PERSON_1), (ARREST_B, PERSON_1), (ARREST_A, PERSON_1), (ARREST_C, PERSON_2),
    ]  # fmt: skip
    assert {r.user_id for r in rows} == {agent.user_id} and {r.agency for r in rows} == {"FBI"}


def test_the_accounting_of_a_record_lists_exactly_what_left(
    client: TestClient, oversight: User, disclosed: None, agent: Actor, clock: FrozenClock
) -> None:
    response = client.get("/api/v1/disclosures", params={"arrest_id": str(ARREST_A)}, headers=oversight.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    newest, oldest = body["items"]
    assert newest == {
        "at": (clock.now() - timedelta(minutes=5)).isoformat().replace("+00:00", "Z"),
        "agency": "FBI",
        "user": str(agent.user_id),
        "agreement_id": str(AGREEMENT),
        "agreement_version": 2,
        "purpose": "criminal_investigation",
        "case_reference": "FBI-2",
        "channel": "query",
        "fields": ["charges", "id", "person.dob"],
        "arrest_id": str(ARREST_A),
    }
    assert (oldest["agreement_version"], oldest["case_reference"], oldest["fields"]) == (
        1,
        "FBI-1",
        ["id", "person.name"],
    )
    assert client.get(
        "/api/v1/disclosures", params={"arrest_id": str(uuid.uuid4())}, headers=oversight.headers
    ).json() == {"items": [], "next_cursor": None}  # fmt: skip


def test_the_accounting_of_a_person_covers_every_record(client: TestClient, oversight: User, disclosed: None) -> None:
    def arrests(limit: int, cursor: str | None = None) -> tuple[list[str], str | None]:
        params = {"person_id": str(PERSON_1), "limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        body = client.get("/api/v1/disclosures", params=params, headers=oversight.headers).json()
        return [item["arrest_id"] for item in body["items"]], body["next_cursor"]

    first, cursor = arrests(2)
    assert first == [str(ARREST_A), str(ARREST_B)] and cursor is not None
    rest, cursor = arrests(2, cursor)
    assert rest == [str(ARREST_A)] and cursor is None


def test_exactly_one_of_arrest_and_person(client: TestClient, oversight: User) -> None:
    for params in ({}, {"arrest_id": str(ARREST_A), "person_id": str(PERSON_1)}):
        response = client.get("/api/v1/disclosures", params=params, headers=oversight.headers)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/disclosures?arrest_id=nope", headers=oversight.headers).status_code == 422


def test_reading_the_accounting_is_audited(
    client: TestClient, oversight: User, disclosed: None, session: Session
) -> None:
    client.get("/api/v1/disclosures", params={"person_id": str(PERSON_1)}, headers=oversight.headers)
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert (entry.action, entry.target, entry.details) == (
        "audit.disclosures_read", str(PERSON_1), {"by": "person_id", "results": 3},
    )  # fmt: skip
    assert str(entry.actor_id) == oversight.id


def test_an_empty_batch_is_audited_without_accounting_rows(
    db: Engine,
    clock: FrozenClock,
    agent: Actor,
    session: Session,
    policy: CheckpointPolicy,
) -> None:
    with unit_of_work(make_session_factory(db), clock, policy=policy) as uow:
        record_disclosure(
            uow, agent, AuditAction.ARREST_SEARCH, agreement_id=AGREEMENT, agreement_version=1,
            purpose="criminal_investigation", case_reference="X", channel="query", records=[], fields=["id"],
        )  # fmt: skip
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert entry.action == "arrest.search" and entry.details["records"] == []
    assert session.scalars(select(Disclosure)).all() == []


def test_the_accounting_is_append_only(disclosed: None, db: Engine) -> None:
    for statement in ("UPDATE disclosures SET purpose = 'x'", "DELETE FROM disclosures"):
        with pytest.raises(Exception, match="append-only"), db.begin() as conn:
            conn.execute(text(statement))


def test_a_batch_of_disclosures_writes_what_one_call_per_batch_writes(
    db: Engine, clock: FrozenClock, agent: Actor, session: Session, policy: CheckpointPolicy
) -> None:
    """`record_disclosures` (a feed round's deliveries at once) leaves the entries, in the same
    order, and the accounting rows that `record_disclosure` called once per batch leaves."""
    batches = [
        Disclosed(agent, AuditAction.FEED_DELIVER, AGREEMENT, 3, "criminal_investigation", None, "feed",
                  [(ARREST_A, PERSON_1), (ARREST_B, PERSON_1)], ["person.name", "id"]),
        Disclosed(agent, AuditAction.ARREST_SEARCH, AGREEMENT, 3, "criminal_investigation", "FBI-ü", "query",
                  [], ["id"], {"parameters": ["name"]}),
        Disclosed(agent, AuditAction.FEED_DELIVER, AGREEMENT, 4, "criminal_investigation", None, "feed",
                  [(ARREST_C, PERSON_2)], ["id", "charges"]),
    ]  # fmt: skip
    factory = make_session_factory(db)

    def written(record: Callable[[Session], None]) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        entries_before = session.scalar(select(func.max(AuditEntry.seq))) or 0
        rows_before = session.scalar(select(func.max(Disclosure.id))) or 0
        with unit_of_work(factory, clock, policy=policy) as uow:
            record(uow)
        session.expire_all()
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > entries_before).order_by(AuditEntry.seq)
        ).all()  # fmt: skip
        rows = session.scalars(select(Disclosure).where(Disclosure.id > rows_before).order_by(Disclosure.id)).all()
        entry_columns = ("at", "actor_id", "agency", "action", "outcome", "target", "details")
        row_columns = [c.key for c in Disclosure.__table__.columns if c.key != "id"]
        return (
            [tuple(getattr(e, c) for c in entry_columns) for e in entries],
            [tuple(getattr(r, c) for c in row_columns) for r in rows],
        )

    def one_by_one(uow: Session) -> None:
        for b in batches:
            record_disclosure(
                uow, b.actor, b.action, agreement_id=b.agreement_id, agreement_version=b.agreement_version,
                purpose=b.purpose, case_reference=b.case_reference, channel=b.channel, records=b.records,
                fields=b.fields, details=b.details,
            )  # fmt: skip

    separately = written(one_by_one)
    together = written(lambda uow: record_disclosures(uow, batches))
    assert len(separately[0]) == 3 and len(separately[1]) == 3
    assert together == separately


def _search_of(uow: Session, agent: Actor, records: list[tuple[uuid.UUID, uuid.UUID]], case: str) -> None:
    record_disclosure(
        uow, agent, AuditAction.ARREST_SEARCH, agreement_id=AGREEMENT, agreement_version=1,
        purpose="criminal_investigation", case_reference=case, channel="query", records=records, fields=["id"],
    )  # fmt: skip


def test_the_accounting_rows_stand_or_fall_with_their_entries(
    db: Engine, clock: FrozenClock, agent: Actor, session: Session, policy: CheckpointPolicy
) -> None:
    """The rows are written at commit beside their entries (by the seal's statement on
    PostgreSQL): a savepoint or a unit of work that rolls back leaves neither; the rows kept
    are in the order they were recorded, a checkpoint signed by the same commit or not."""
    factory = make_session_factory(db)

    def rolled_back() -> None:
        with unit_of_work(factory, clock, policy=policy) as uow:
            _search_of(uow, agent, [(ARREST_C, PERSON_2)], "FBI-gone")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        rolled_back()
    with unit_of_work(factory, clock, policy=policy) as uow:
        _search_of(uow, agent, [(ARREST_A, PERSON_1)], "FBI-outer")
        savepoint = uow.begin_nested()
        _search_of(uow, agent, [(ARREST_C, PERSON_2)], "FBI-inner")
        savepoint.rollback()
        _search_of(uow, agent, [(ARREST_B, PERSON_1), (ARREST_A, PERSON_1)], "FBI-after")
    with unit_of_work(factory, clock, policy=policy) as uow:
        request_checkpoint(uow)
        _search_of(uow, agent, [(ARREST_C, PERSON_2)], "FBI-signed")
    entries = session.scalars(select(AuditEntry).where(AuditEntry.agency == "FBI").order_by(AuditEntry.seq)).all()
    assert [e.details["case_reference"] for e in entries] == ["FBI-outer", "FBI-after", "FBI-signed"]
    rows = session.scalars(select(Disclosure).order_by(Disclosure.id)).all()
    assert [(r.case_reference, r.arrest_id, r.person_id, r.fields) for r in rows] == [
        ("FBI-outer", ARREST_A, PERSON_1, ["id"]),
        ("FBI-after", ARREST_B, PERSON_1, ["id"]),
        ("FBI-after", ARREST_A, PERSON_1, ["id"]),
        ("FBI-signed", ARREST_C, PERSON_2, ["id"]),
    ]
    assert {(r.at, r.user_id, r.agreement_id, r.agreement_version) for r in rows} == {
        (clock.now(), agent.user_id, AGREEMENT, 1)
    }
    assert session.scalar(select(func.max(AuditCheckpoint.size))) == entries[-1].seq
