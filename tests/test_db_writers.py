"""SQLite's writers of one process queue on a lock of the process (`pars.db`): one transaction at
a time per database file, handed over when it ends however it ends, never held by a read in
autocommit (`pars.db.reader`), and a writer that waits past the busy timeout fails as SQLite's
own busy writer does."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from pars.db import DatabaseWait, Deadlines, make_engine, missed_deadline, reader


def _engine(tmp_path: Path, busy: float = 5.0) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}", deadlines=Deadlines(busy=busy))
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    return engine


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_the_next_writer_gets_in_however_a_transaction_ends(tmp_path: Path, end: str) -> None:
    engine = _engine(tmp_path, busy=2)
    try:
        connection = engine.connect()
        connection.execute(text("INSERT INTO t VALUES (1)"))
        if end == "commit":
            connection.commit()
        elif end == "rollback":
            connection.rollback()
        connection.close()  # "close": back to the pool with its transaction open
        started = time.monotonic()
        with engine.begin() as other:
            other.execute(text("INSERT INTO t VALUES (2)"))
        assert time.monotonic() - started < 1
        with engine.connect() as look:
            assert look.execute(text("SELECT count(*) FROM t")).scalar_one() == (2 if end == "commit" else 1)
    finally:
        engine.dispose()


def test_a_writer_waits_for_the_one_before_it_then_goes_on(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    order: list[str] = []
    try:
        first = engine.connect()
        first.execute(text("INSERT INTO t VALUES (1)"))

        def second() -> None:
            with engine.begin() as connection:
                order.append("second began")
                connection.execute(text("INSERT INTO t VALUES (2)"))

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.2)
        order.append("first commits")
        first.commit()
        first.close()
        thread.join(5)
        assert order == ["first commits", "second began"]
    finally:
        engine.dispose()


def test_a_writer_waiting_past_the_busy_timeout_fails_as_locked(tmp_path: Path) -> None:
    engine = _engine(tmp_path, busy=0.3)
    try:
        with engine.connect() as holder:
            holder.execute(text("INSERT INTO t VALUES (1)"))
            failure: list[BaseException] = []

            def waiter() -> None:
                try:
                    with engine.begin() as connection:
                        connection.execute(text("INSERT INTO t VALUES (2)"))
                except OperationalError as exc:
                    failure.append(exc)

            thread = threading.Thread(target=waiter)
            started = time.monotonic()
            thread.start()
            thread.join(5)
            assert time.monotonic() - started < 3
            [error] = failure
            assert missed_deadline(error) is DatabaseWait.LOCK
        with engine.begin() as connection:  # the holder's end let go of the lock
            connection.execute(text("INSERT INTO t VALUES (3)"))
    finally:
        engine.dispose()


def test_a_read_in_autocommit_neither_takes_nor_waits_for_the_lock(tmp_path: Path) -> None:
    engine = _engine(tmp_path, busy=0.3)
    try:
        with engine.connect() as holder:
            holder.execute(text("INSERT INTO t VALUES (1)"))
            with Session(engine) as session, reader(session) as read:
                started = time.monotonic()
                assert read.execute(text("SELECT count(*) FROM t")).scalar_one() == 0  # not committed yet
                assert time.monotonic() - started < 0.2
                assert not session.in_transaction()
            holder.commit()
    finally:
        engine.dispose()
