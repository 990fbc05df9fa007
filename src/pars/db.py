"""Engine, sessions and the base model shared by every feature's tables.

The schema is portable between SQLite (the embedded default) and PostgreSQL (production):
UUIDs use SQLAlchemy's ``Uuid``, JSON columns become JSONB on PostgreSQL, and every instant is
stored as UTC by ``UTCDateTime`` (SQLite keeps no offset, so the type restores it on the way out).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import psycopg
from sqlalchemy import JSON, Connection, DateTime, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from pars.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PortableJSON = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """An aware instant in, an aware UTC instant out; a naive value is a bug and is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        # SQLite stores text; dropping the offset keeps lexical order equal to time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: PortableJSON,
        list[dict[str, Any]]: PortableJSON,
        list[str]: PortableJSON,
    }


def _json_text(value: Any) -> str:
    """JSON as SQLite stores it: keys sorted, no spaces, UTF-8 as is. That is the audit trail's
    canonical form (pars.audit.canonical), so verification can hash a stored ``details`` text
    without parsing and re-encoding it. PostgreSQL's JSONB keeps its own form."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Deadlines:
    """How long one statement, one lock wait, one wait for another SQLite writer and one wait
    for a pooled connection may take, in seconds. The API's engine has short ones (a saturated
    database gives a quick 503, not a hang: ``pars.app.deadlines``); commands and the worker
    longer ones (``command_deadlines``); ``None`` waits for ever."""

    statement: float | None = None
    lock: float | None = None
    busy: float = 30.0
    pool: float = 30.0
    connect: int = 10


def make_engine(url: str, *, deadlines: Deadlines | None = None, **kwargs: Any) -> Engine:
    deadlines = deadlines or Deadlines()
    kwargs.setdefault("pool_timeout", deadlines.pool)
    if url.startswith("sqlite"):
        kwargs.setdefault("json_serializer", _json_text)
        _private_file(make_url(url).database)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": deadlines.busy}, **kwargs)
        event.listen(engine, "connect", partial(_sqlite_pragmas, busy_ms=int(deadlines.busy * 1000)))
        # pysqlite's own transaction handling defers BEGIN and breaks SERIALIZABLE-like
        # behaviour; take control so each unit of work is one real transaction.
        database = make_url(url).database
        if not database or database == ":memory:" or database.startswith("file:"):
            event.listen(engine, "begin", _begin_immediate)
        else:
            _one_writer_at_a_time(engine, _writer_lock(database), busy=deadlines.busy)
        return engine
    options = [f"-c {name}={int(seconds * 1000)}" for name, seconds in
               (("statement_timeout", deadlines.statement), ("lock_timeout", deadlines.lock)) if seconds]  # fmt: skip
    connect_args: dict[str, Any] = {"connect_timeout": deadlines.connect}
    if options:
        connect_args["options"] = " ".join(options)
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def command_deadlines(settings: Settings) -> Deadlines:
    """Deadlines of `pars` commands and the worker: a lock wait as long as
    PARS_DATABASE_COMMAND_LOCK_TIMEOUT (PostgreSQL's lock_timeout, SQLite's busy timeout), any
    statement as long as PARS_DATABASE_COMMAND_STATEMENT_TIMEOUT."""
    lock = settings.database_command_lock_timeout
    return Deadlines(statement=settings.database_command_statement_timeout, lock=lock, busy=lock)


def command_engine(settings: Settings) -> Engine:
    """The engine of a `pars` command or of the worker, with ``command_deadlines``."""
    return make_engine(settings.database_url, deadlines=command_deadlines(settings))


class DatabaseWait(StrEnum):
    """Which deadline a database error means, for a message that says what to do."""

    LOCK = "lock"  # a lock another connection holds was not released in time
    STATEMENT = "statement"  # a statement ran past the statement timeout


def missed_deadline(exc: BaseException) -> DatabaseWait | None:
    """The deadline ``exc`` (a SQLAlchemy error or the driver's own) ran past, if any."""
    cause = getattr(exc, "orig", None) or exc
    if isinstance(cause, psycopg.errors.LockNotAvailable):
        return DatabaseWait.LOCK
    if isinstance(cause, psycopg.errors.QueryCanceled):
        return DatabaseWait.STATEMENT
    if isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause):
        return DatabaseWait.LOCK
    return None


def _private_file(database: str | None) -> None:
    """The database holds SSNs: create it readable by its owner only (SQLite gives its -wal and
    -shm files the database file's mode), and close an existing one that others could read."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        for file in (path, Path(f"{database}-wal"), Path(f"{database}-shm")):
            if file.exists() and file.stat().st_mode & 0o077 and file.stat().st_uid == os.getuid():
                file.chmod(0o600)
    except OSError:
        # A read-only location is SQLite's to report, with its own message, at first use.
        return


# SQLite's writers in this process queue on a lock of the process, one per database file, before
# they ask SQLite for its write lock (`BEGIN IMMEDIATE`). SQLite lets a waiting writer retry by
# sleeping (1, 2, 5, 10, ... up to 100 ms at a time), so with many writers its lock was often free
# while they all slept; here a writer that ends hands over to a waiting one at once. Writers of
# other processes still meet at SQLite's own lock, which every transaction takes as before.
_WRITERS: dict[str, threading.Lock] = {}
_WRITERS_GUARD = threading.Lock()
# Key in the pooled connection's info: this connection's transaction holds its file's lock.
_HOLDS = "pars.db.writer_lock"


def _writer_lock(database: str) -> threading.Lock:
    with _WRITERS_GUARD:
        return _WRITERS.setdefault(os.path.realpath(database), threading.Lock())


def _one_writer_at_a_time(engine: Engine, lock: threading.Lock, *, busy: float) -> None:
    """Every transaction takes ``lock`` (waiting at most the busy timeout, as SQLite would), then
    SQLite's write lock; both are let go once it has committed or rolled back, or when its
    connection goes back to the pool, is invalidated or closed with the transaction still open."""

    def begin(conn: Connection) -> None:
        if _autocommit(conn):
            return
        if not lock.acquire(timeout=busy):
            locked = sqlite3.OperationalError("database is locked")
            raise OperationalError("BEGIN IMMEDIATE", None, locked)
        conn.connection.info[_HOLDS] = lock
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(conn.connection.info)
            raise

    def end(conn: Connection, *, commit: bool) -> None:
        # Ended here, so that the lock is let go after SQLite's, not before; SQLAlchemy's own
        # COMMIT or ROLLBACK that follows finds no transaction and does nothing. Should it fail,
        # the lock stays held, and SQLAlchemy's own attempt raises the error as usual.
        dbapi_connection = conn.connection.dbapi_connection
        _end_then_release(dbapi_connection, conn.connection.info, commit=commit)

    def reset(dbapi_connection: Any, record: Any, _state: Any) -> None:
        _end_then_release(dbapi_connection, record.info, commit=False)

    def invalidate(dbapi_connection: Any, record: Any, _exception: Any) -> None:
        _end_then_release(dbapi_connection, record.info, commit=False)

    def close(dbapi_connection: Any, record: Any) -> None:
        _end_then_release(dbapi_connection, record.info, commit=False)

    event.listen(engine, "begin", begin)
    event.listen(engine, "commit", partial(end, commit=True))
    event.listen(engine, "rollback", partial(end, commit=False))
    event.listen(engine.pool, "reset", reset)
    event.listen(engine.pool, "invalidate", invalidate)
    event.listen(engine.pool, "soft_invalidate", invalidate)
    event.listen(engine.pool, "close", close)


def _autocommit(conn: Connection) -> bool:
    """A connection asked for autocommit (`reader`): its reads begin no transaction."""
    return bool(conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT")


def _begin_immediate(conn: Connection) -> None:
    if not _autocommit(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _end_then_release(dbapi_connection: Any, info: dict[Any, Any], *, commit: bool) -> None:
    if _HOLDS not in info:
        return
    try:
        if dbapi_connection is not None and dbapi_connection.in_transaction:
            (dbapi_connection.commit if commit else dbapi_connection.rollback)()
    except sqlite3.Error:
        if commit:
            return
    _release(info)


def _release(info: dict[Any, Any]) -> None:
    lock: threading.Lock | None = info.pop(_HOLDS, None)
    if lock is not None:
        lock.release()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy_ms: int) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a commit survives a crash of the process; a power loss can lose the
    # last commits (docs/deployment.md says exactly what), never corrupt the file or the chain.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.close()


@contextmanager
def reader(session: Session) -> Iterator[Session | Connection]:
    """Where a read that need not share the session's transaction runs: on SQLite, before that
    transaction has begun, a pooled connection of its own in autocommit, so the read neither
    takes nor waits for the database's one write lock, which every transaction takes at its
    start (`BEGIN IMMEDIATE`); otherwise (PostgreSQL, or a transaction already begun, whose
    own changes the read must see) the session itself."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite" or session.in_transaction() or not isinstance(bind, Engine):
        yield session
        return
    with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Bare sessions: a session gets its clock, checkpoint policy and actor from the unit of
    work that opens it (``pars.work.unit_of_work``), the only place that commits."""
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)
