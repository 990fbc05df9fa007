"""Alembic environment. The URL comes from the caller's config (``pars init``) or, for
`alembic` on the command line, from PARS_DATABASE_URL."""

from __future__ import annotations

from alembic import context

from pars.db import make_engine
from pars.models import metadata
from pars.settings import Settings

config = context.config


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url") or Settings().database_url
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite can only ALTER by copying the table
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
