"""Fixtures for oversight: people with arrests on file, a writer of synthetic partner trails
(through the audit service, with the clock set to each entry's time), and the scanner."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from pars.actors import Actor, CityActor, PartnerActor
from pars.audit import AuditAction, Outcome, record_disclosure, record_event
from pars.audit.chain import CheckpointPolicy
from pars.audit.models import AuditEntry
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.oversight.models import Alert
from pars.oversight.scan import ScanResult, scan
from pars.permissions import Role
from pars.records import intake
from pars.records.schemas import ArrestIn
from pars.settings import Settings
from pars.work import unit_of_work
from tests.conftest import User, arrest_body

AGREEMENT = uuid.UUID("00000000-0000-4000-8000-00000000a001")
FIELDS = ["charges", "id", "person.dob", "person.name", "status", "tracking_number"]
# A Wednesday in Philadelphia, far from daylight-saving changes; trails are written after it.
DAY = datetime(2026, 2, 4, 5, 0, tzinfo=UTC)  # midnight, city time


@dataclass(frozen=True)
class Person:
    arrest_id: uuid.UUID
    person_id: uuid.UUID


@dataclass(frozen=True)
class Ask:
    """A disclosing query: the records it answered with (none for a search that found nothing)."""

    people: Sequence[Person] = ()
    case: str | None = None
    purpose: str = "criminal_investigation"
    action: AuditAction = AuditAction.ARREST_SEARCH
    parameters: Sequence[str] = ("last_name", "dob")
    subject: str | None = None
    channel: str = "query"
    fields: Sequence[str] = tuple(FIELDS)
    agreement_id: uuid.UUID = AGREEMENT
    version: int = 1


@dataclass(frozen=True)
class Refuse:
    reason: str
    action: AuditAction = AuditAction.ARREST_SEARCH
    case: str | None = None
    purpose: str | None = "criminal_investigation"
    parameters: Sequence[str] | None = None
    agreement_id: uuid.UUID | None = None


@dataclass
class Trail:
    factory: sessionmaker[Session]
    policy: CheckpointPolicy
    written: list[int] = field(default_factory=list)

    def write(self, actor: Actor, at: datetime, *acts: Ask | Refuse) -> list[int]:
        """Writes the acts in one transaction at ``at``; returns their audit seqs."""
        with unit_of_work(self.factory, FrozenClock(at), policy=self.policy, actor=actor) as session:
            before = session.scalar(select(func.max(AuditEntry.seq))) or 0
            for act in acts:
                _write(session, actor, act)
        with self.factory() as session:
            after = session.scalar(select(func.max(AuditEntry.seq))) or 0
        seqs = list(range(before + 1, after + 1))
        assert len(seqs) == len(acts)
        self.written.extend(seqs)
        return seqs


def _write(session: Session, actor: Actor, act: Ask | Refuse) -> None:
    if isinstance(act, Ask):
        extra: dict[str, Any] | None = None
        if act.action == AuditAction.ARREST_SEARCH:
            extra = {"parameters": list(act.parameters)} | ({"subject": act.subject} if act.subject else {})
        record_disclosure(
            session, actor, act.action, agreement_id=act.agreement_id, agreement_version=act.version,
            purpose=act.purpose, case_reference=act.case, channel=act.channel,
            records=[(p.arrest_id, p.person_id) for p in act.people], fields=act.fields, details=extra,
        )  # fmt: skip
        return
    details: dict[str, Any] = {"reason": act.reason, "purpose": act.purpose, "case_reference": act.case,
                               "channel": "query"}  # fmt: skip
    if act.agreement_id is not None:
        details |= {"agreement_id": str(act.agreement_id), "agreement_version": 1}
    if act.parameters is not None:
        details["parameters"] = list(act.parameters)
    record_event(session, actor, act.action, None, details, outcome=Outcome.REFUSED)


@pytest.fixture
def trail(db: Engine, policy: CheckpointPolicy) -> Trail:
    return Trail(make_session_factory(db), policy)


def partner_actor(user: User) -> Actor:
    return PartnerActor(uuid.UUID(user.id), user.agency, frozenset({Role.PARTNER}), name=user.agency)


@pytest.fixture
def partner(make_user: Callable[..., User]) -> Callable[..., Actor]:
    """A partner user (and its agency, kind partner)."""

    def make(agency: str = "ICE") -> Actor:
        return partner_actor(make_user(Role.PARTNER, agency=agency))

    return make


@pytest.fixture
def people(
    db: Engine, clock: FrozenClock, make_user: Callable[..., User], policy: CheckpointPolicy
) -> Callable[..., list[Person]]:
    """Books ``n`` arrests of ``n`` different people (at the test clock's time); keyword
    arguments replace members of each person (``race``, ``ethnicity``, …)."""

    def book(n: int, **person: Any) -> list[Person]:
        clerk = make_user(Role.BOOKING)
        actor = CityActor(uuid.UUID(clerk.id), "PPD", frozenset({Role.BOOKING}))
        made = []
        with unit_of_work(make_session_factory(db), clock, policy=policy, actor=actor) as session:
            for i in range(n):
                body = arrest_body()
                body["person"] = {**body["person"], "name": {"first": f"Ana{i}", "last": f"Person{i}{uuid.uuid4().hex[:6]}"},
                                  "dob": f"19{60 + i % 40}-0{1 + i % 9}-1{i % 10}", **person}  # fmt: skip
                body["arrest"] = {**body["arrest"], "incident_number": f"2624{uuid.uuid4().int % 10**6:06d}"}
                arrest = intake.book_arrest(session, actor, ArrestIn.model_validate(body))
                made.append(Person(arrest.id, arrest.person_id))
        return made

    return book


@pytest.fixture
def run_scan(db: Engine, clock: FrozenClock, settings: Settings, policy: CheckpointPolicy) -> Callable[..., ScanResult]:
    def run(tuned: Settings | None = None, *, limit: int | None = None) -> ScanResult:
        return scan(make_session_factory(db), clock, tuned or settings, policy=policy, limit=limit)

    return run


@pytest.fixture
def alerts(db: Engine) -> Callable[..., list[Alert]]:
    def read(rule: str | None = None) -> list[Alert]:
        with make_session_factory(db)() as session:
            query = select(Alert).order_by(Alert.window_start, Alert.rule, Alert.agency)
            if rule is not None:
                query = query.where(Alert.rule == rule)
            return list(session.scalars(query))

    return read


def at(day: int, hour: float = 12.0) -> datetime:
    """``hour`` o'clock (city time, EST) on the ``day``-th day after DAY."""
    return DAY + timedelta(days=day, hours=hour)
