"""Fixtures for the audit trail: a signer, sessions that sign checkpoints, a trail of a given
length, and the attacker's way around the append-only triggers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text

from pars.actors import CityActor
from pars.audit import AuditAction, record_event
from pars.audit.chain import CheckpointPolicy
from pars.audit.signing import Signer, load_signer
from pars.audit.verify import Verification, verify_trail
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.permissions import Role
from pars.settings import Settings
from pars.work import unit_of_work

CLERK = CityActor(user_id=uuid.uuid4(), agency_code="PPD", roles=frozenset({Role.BOOKING}))


@pytest.fixture
def signer(audit_key_file: Path) -> Signer:
    return load_signer(audit_key_file)


@pytest.fixture
def checkpoints(settings: Settings, signer: Signer) -> Callable[..., CheckpointPolicy]:
    """A checkpoint policy for a unit of work, by default a checkpoint every 10 entries."""

    def make(entries: int = 10, seconds: float = 3600) -> CheckpointPolicy:
        tuned = settings.model_copy(update={"audit_checkpoint_entries": entries, "audit_checkpoint_seconds": seconds})
        return CheckpointPolicy.from_settings(tuned, signer)

    return make


@pytest.fixture
def write_trail(db: Engine, checkpoints: Callable[..., CheckpointPolicy], clock: FrozenClock) -> Callable[[int], None]:
    """Appends `n` entries, two per transaction, with varied content (unicode, nulls, nesting)."""

    def write(n: int) -> None:
        factory, policy = make_session_factory(db), checkpoints()
        for index in range(0, n, 2):
            with unit_of_work(factory, clock, policy=policy) as session:
                for offset in range(min(2, n - index)):
                    details = {"n": index + offset, "name": "Peña 王", "nested": {"ok": True, "list": [1, 2.5, None]}}
                    record_event(session, CLERK, AuditAction.ARREST_READ, uuid.uuid4(), details)

    return write


def verify(db: Engine, signer: Signer) -> Verification:
    """Verifies serially and on two processes over ranges of 7 entries (so runs, single entries
    and range edges meet every tampering the tests make): both must find exactly the same."""
    with make_session_factory(db)() as session:
        serial = verify_trail(session, public_key=signer.public_key, workers=1)
    with make_session_factory(db)() as session:
        parallel = verify_trail(session, public_key=signer.public_key, workers=2, chunk=7)
    assert (parallel.entries, parallel.problems, parallel.more_problems) == (
        serial.entries,
        serial.problems,
        serial.more_problems,
    )
    return serial


@contextmanager
def tampering(engine: Engine) -> Iterator[Connection]:
    """A connection as an attacker with database rights has it: the append-only triggers set
    aside (PostgreSQL: replica mode skips them; SQLite: dropped, and put back afterwards)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            yield conn
            return
        triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
        for name, _ in triggers:
            conn.execute(text(f'DROP TRIGGER "{name}"'))
        yield conn
        for _, sql in triggers:
            conn.execute(text(sql))
