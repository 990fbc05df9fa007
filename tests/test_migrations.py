"""One migration history for both databases: it builds the schema from empty (the `engine`
fixture does that), and the models hold nothing the migrations do not."""

from __future__ import annotations

import contextlib
import uuid
from datetime import date
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from pars.db import make_engine
from pars.migrate import alembic_config
from pars.models import metadata
from tests.conftest import START, _postgres_database


def test_migrations_build_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_models_match_the_migrations(engine: Engine) -> None:
    """What `alembic check` checks: autogenerate finds no difference."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_free_text_person_codes_become_codes(database_url: str, tmp_path: Path) -> None:
    """0010 rewrites recognised free-text sex, race and ethnicity to their codes and leaves the
    rest as entered, on a database of its own migrated to 0009 and filled as the old pages did."""
    url = f"sqlite:///{tmp_path / 'old.db'}" if database_url.startswith("sqlite") else None
    with contextlib.ExitStack() as stack:
        if url is None:
            url = stack.enter_context(contextlib.contextmanager(_postgres_database)())
        engine = make_engine(url)
        stack.callback(engine.dispose)
        config = alembic_config(url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0009")
        typed = [
            ("male", "Black", "Non-Hispanic"), (" F ", "black", "hispanic"), ("M", "B", "Not Hispanic"),
            ("Woman", "Caucasian", "LATINO"), ("unknown", "Unknown", "unk"), (None, "Martian", "n/a"),
            ("X", "african-american", None),
        ]  # fmt: skip
        persons, arrests = metadata.tables["persons"], metadata.tables["arrests"]
        with engine.begin() as connection:
            person = uuid.uuid4()
            connection.execute(persons.insert().values(id=person, ppn="0000001", created_at=START))
            for i, (sex, race, ethnicity) in enumerate(typed):
                connection.execute(
                    arrests.insert().values(
                        id=uuid.uuid4(),
                        tracking_number=f"N00000{i}0",
                        person_id=person,
                        status="booked",
                        sealed=False,
                        last_name="Doe",
                        last_key="doe",
                        aliases=[],
                        dob=date(1990, 1, 1),
                        sex=sex,
                        race=race,
                        ethnicity=ethnicity,
                        arrested_at=START,
                        victims=[],
                        witnesses=[],
                        custody_status="in_custody",
                        created_at=START,
                        updated_at=START,
                    )
                )
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT sex, race, ethnicity FROM arrests ORDER BY tracking_number")).all()
        assert [tuple(r) for r in rows] == [
            ("M", "B", "N"), ("F", "B", "H"), ("M", "B", "N"), ("F", "W", "H"), ("U", "U", "U"),
            (None, "Martian", "n/a"), ("X", "B", None),
        ]  # fmt: skip
