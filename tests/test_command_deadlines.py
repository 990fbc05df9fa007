"""Database deadlines of `pars` commands and of the worker (issue 13, item 5), on SQLite and
PostgreSQL, against real processes: a lock another connection holds ends a command after
PARS_DATABASE_COMMAND_LOCK_TIMEOUT with a message that says so (exit 75, no traceback, nothing
half done) instead of hanging; the worker logs the failed round, keeps running and delivers once
the lock is released (its start, like any command's, is refused with the message). Process waits are bounded at 60 s: a bound on a hang, not a speed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.orm import Session

from pars.actions import AuditAction
from pars.audit.models import AuditEntry
from pars.cli import EXIT_DATABASE_BUSY
from pars.db import DatabaseWait, missed_deadline
from pars.settings import Settings
from tests.conftest import User
from tests.feed.conftest import receiver, settings, subscribe  # noqa: F401 - shared fixtures
from tests.feed.receivers import Receiver
from tests.sharing.conftest import agreement, approve, fbi, governors, propose  # noqa: F401 - shared fixtures

ROOT = Path(__file__).resolve().parents[1]
LOCK_SECONDS = 1
LONG = {"expires_at": "2036-01-01T00:00:00-05:00"}
Make = Callable[..., dict[str, Any]]


def _environment(settings: Settings) -> dict[str, str]:  # noqa: F811 - the fixture's value
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "PYTHONUNBUFFERED": "1",
        "PARS_DATABASE_URL": settings.database_url,
        "PARS_AUDIT_KEY_FILE": str(settings.audit_key_file),
        "PARS_DATABASE_COMMAND_LOCK_TIMEOUT": str(LOCK_SECONDS),
        "PARS_WEBHOOK_PRIVATE_TARGETS": "loopback",
        "PARS_WEBHOOK_RETRY_SCHEDULE": "1s",
    }
    environment.pop("PARS_NATS_URL", None)
    environment.pop("PARS_ADMIN_KEY", None)
    return environment


def _hold(holder: Connection, table: str) -> None:
    """Another connection takes what the command needs: the table (PostgreSQL) or SQLite's one
    write lock."""
    if holder.dialect.name == "postgresql":
        holder.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
    else:
        holder.exec_driver_sql("BEGIN IMMEDIATE")


def _scans(session: Session) -> int:
    session.expire_all()
    found = session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == AuditAction.OVERSIGHT_SCAN)
    )
    session.rollback()
    return found or 0


def test_a_held_lock_ends_a_command_with_a_clear_message(
    db: Engine,
    settings: Settings,  # noqa: F811 - the fixture
    reader_engine: Engine,
    session: Session,
) -> None:
    command = [sys.executable, "-m", "pars.cli", "oversight", "scan"]
    with reader_engine.connect() as holder:
        _hold(holder, "audit_entries")
        blocked = subprocess.run(  # noqa: S603 - our own CLI
            command, env=_environment(settings), capture_output=True, text=True, timeout=60, check=False
        )
        holder.rollback()
    assert blocked.returncode == EXIT_DATABASE_BUSY, blocked.stderr
    message = " ".join(blocked.stderr.split())  # Rich wraps long lines
    assert "another connection holds a lock" in message
    assert f"PARS_DATABASE_COMMAND_LOCK_TIMEOUT={LOCK_SECONDS}s" in message
    assert "rolled back" in message and "Traceback" not in blocked.stderr + blocked.stdout
    assert _scans(session) == 0  # nothing of it was kept
    # Released: the same command does its work.
    done = subprocess.run(  # noqa: S603 - our own CLI
        command, env=_environment(settings), capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Scanned" in done.stdout
    assert _scans(session) == 1


@pytest.fixture
def worker_process(
    settings: Settings,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pars.cli", "worker", "--poll", "0.2"],
            env=_environment(settings), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield process, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def _until(predicate: Callable[[], bool], timeout: float = 60) -> bool:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_the_worker_survives_a_held_lock_and_delivers_after_it(
    agreement: Make,  # noqa: F811 - the fixture
    fbi: User,  # noqa: F811 - the fixture
    subscribe: Make,  # noqa: F811 - the fixture
    receiver: Receiver,  # noqa: F811 - the fixture
    book: Make,
    reader_engine: Engine,
    worker_process: tuple[subprocess.Popen[bytes], Path],
) -> None:
    agreement(**LONG)
    subscribe(fbi, receiver.url())
    first = book()
    process, log = worker_process
    assert receiver.wait_for(1, timeout=60), log.read_text()  # the worker is at work
    with reader_engine.connect() as holder:
        _hold(holder, "webhook_jobs")
        # Its rounds run into the lock, each ending at the lock timeout with a log line.
        wait = "LockNotAvailable" if holder.dialect.name == "postgresql" else "database is locked"
        assert _until(lambda: log.read_text(errors="replace").count("feed worker round failed") >= 2), log.read_text()
        assert wait in log.read_text(errors="replace")
        assert process.poll() is None, log.read_text()
        holder.rollback()
    # Released: the next rounds deliver again, each event once.
    second = book()
    assert receiver.wait_for(2, timeout=60), log.read_text()
    bodies = [item.body.decode() for item in receiver.received]
    assert len(bodies) == 2 and first["id"] in bodies[0] and second["id"] in bodies[1]
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0


def test_missed_deadlines_are_told_apart() -> None:
    assert missed_deadline(psycopg.errors.LockNotAvailable()) is DatabaseWait.LOCK
    assert missed_deadline(psycopg.errors.QueryCanceled()) is DatabaseWait.STATEMENT
    assert missed_deadline(sqlite3.OperationalError("database is locked")) is DatabaseWait.LOCK
    assert missed_deadline(sqlite3.OperationalError("no such table: x")) is None
