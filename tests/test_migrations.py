"""One migration history for both databases: it builds the schema from empty (the `engine`
fixture does that), and the models hold nothing the migrations do not."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from pars.models import metadata


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
