"""Issue 13, item 10: the SQLite file holds SSNs, so it and its -wal and -shm files are readable by
their owner only, whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from pars.db import make_engine


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_and_its_wal_are_created_mode_0600(tmp_path: Path) -> None:
    database = tmp_path / "data" / "pars.db"
    previous = os.umask(0o022)
    try:
        engine = make_engine(f"sqlite:///{database}")
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
        with engine.connect() as connection:  # the WAL and shared-memory files exist while open
            connection.execute(text("SELECT x FROM t")).all()
            files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
            assert all(f.exists() for f in files)
            assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        engine.dispose()
    finally:
        os.umask(previous)


def test_an_existing_database_readable_by_others_is_closed_to_them(tmp_path: Path) -> None:
    database = tmp_path / "pars.db"
    database.touch()
    database.chmod(0o644)
    make_engine(f"sqlite:///{database}").dispose()
    assert _mode(database) == 0o600
