"""Migration 0002 on a database that already has entries: they are numbered 1..N in their order
and chained, so `pars init` on an existing database leaves a trail that verifies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from alembic import command
from sqlalchemy import Engine, text

from pars.audit import AuditAction, record_event
from pars.audit.chain import CheckpointPolicy
from pars.audit.signing import Signer
from pars.clock import FrozenClock
from pars.db import make_engine, make_session_factory
from pars.migrate import alembic_config, upgrade
from pars.work import unit_of_work
from tests.audit.conftest import CLERK, verify
from tests.conftest import POSTGRES_ADMIN_URL


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    if database_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    name = f"pars_migration_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(database_url.rsplit("/", 1)[0] + f"/{name}")
    yield engine
    engine.dispose()
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_entries_from_before_the_chain_are_chained(
    empty_database: Engine, signer: Signer, policy: CheckpointPolicy
) -> None:
    engine = empty_database
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    at = "2026-01-05 10:00:00.000000" if engine.dialect.name == "sqlite" else "2026-01-05T10:00:00+00:00"
    with engine.begin() as conn:
        # Identity numbers with gaps (rolled-back transactions), no hashes, a float with no fraction.
        for seq, details in ((3, '{"n": 2.0}'), (7, "{}"), (8, '{"name": "Peña"}')):
            conn.execute(
                text(
                    "INSERT INTO audit_entries (seq, at, actor_id, agency, action, outcome, target, details)"
                    " VALUES (:seq, :at, NULL, 'PARS', 'admin.system_init', 'ok', NULL, :details)"
                ),
                {"seq": seq, "at": at, "details": details},
            )
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, details FROM audit_entries ORDER BY seq")).all()
    assert [r[0] for r in rows] == [1, 2, 3]
    result = verify(engine, signer)
    assert result.ok and result.entries == 3
    with unit_of_work(
        make_session_factory(engine), FrozenClock(datetime(2026, 1, 6, tzinfo=UTC)), policy=policy
    ) as session:
        entry = record_event(session, CLERK, AuditAction.ARREST_READ, "after the upgrade")
    assert entry.seq == 4
    assert verify(engine, signer).ok
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            default = conn.execute(
                text(
                    "SELECT column_default FROM information_schema.columns WHERE table_name = 'audit_entries' AND column_name = 'seq'"
                )
            ).scalar_one()
        assert default is None  # PARS numbers entries itself
