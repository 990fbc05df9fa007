"""Engine, sessions and the base model shared by every feature's tables.

The schema is portable between SQLite (the embedded default) and PostgreSQL (production):
UUIDs use SQLAlchemy's ``Uuid``, JSON columns become JSONB on PostgreSQL, and every instant is
stored as UTC by ``UTCDateTime`` (SQLite keeps no offset, so the type restores it on the way out).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from pars.clock import Clock

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


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        kwargs.setdefault("json_serializer", _json_text)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN and breaks SERIALIZABLE-like
        # behaviour; take control so each unit of work is one real transaction.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(engine: Engine, *, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    """``info`` is copied into every session's ``Session.info`` (the audit trail's checkpoint
    signer travels this way, see ``pars.audit.chain.session_info``)."""
    return sessionmaker(engine, expire_on_commit=False, autoflush=True, info=info)


@contextmanager
def unit_of_work(factory: sessionmaker[Session], clock: Clock) -> Iterator[Session]:
    """One transaction: commits when the block ends normally, rolls back on any exception.

    This is the only place that commits; services only flush.
    """
    with factory() as session:
        session.info["clock"] = clock
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
