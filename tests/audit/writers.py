"""A writer process for the multi-process test: its own engine, its own sessions, the same
database and signing key as the test."""

from __future__ import annotations

import uuid
from pathlib import Path

from pars.actors import SYSTEM
from pars.audit import AuditAction, record_event
from pars.audit.chain import CheckpointPolicy
from pars.audit.signing import load_signer
from pars.clock import SystemClock
from pars.db import make_engine, make_session_factory
from pars.settings import Settings
from pars.work import unit_of_work


def write_entries(url: str, key_file: str, commits: int) -> int:
    settings = Settings(database_url=url, audit_key_file=Path(key_file), audit_checkpoint_entries=7)
    engine = make_engine(url)
    policy = CheckpointPolicy.from_settings(settings, load_signer(settings.audit_key_file))
    factory = make_session_factory(engine)
    for index in range(commits):
        with unit_of_work(factory, SystemClock(), policy=policy) as session:
            record_event(session, SYSTEM, AuditAction.ARREST_READ, uuid.uuid4(), {"process_commit": index})
            record_event(session, SYSTEM, AuditAction.ARREST_SEARCH, None, {"results": index})
    engine.dispose()
    return commits
