"""Writing a batch of plain rows in one statement (the worker writes hundreds a round).

SQLite runs an executemany in C, row after row, and that is as fast as it gets there. psycopg
sends an executemany as one statement per row (pipelined, yet each is bound and executed on its
own), and SQLAlchemy's multi-row VALUES (``insertmanyvalues``, used with RETURNING) makes
psycopg parse a statement of thousands of placeholders. On PostgreSQL the rows go instead as one
array per column, unnested by the server in one ``INSERT … SELECT``: a handful of parameters
whatever the number of rows, and the rows inserted in the order given.

The arrays travel as the execution's parameters (``rows_<column>``), not inside the statement,
so that a hook that reads what a statement inserts (`pars.feed.bus`: the stream events'
agencies and sequences) reads them with `rows_of` whichever way they were sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Result, Table, bindparam, func, insert, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

# The prefix of `insert_rows`' array parameters on PostgreSQL.
_ARRAY = "rows_"


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    same: Mapping[str, Any] | None = None,
    returning: Column[Any] | None = None,
) -> Result[Any] | None:
    """Inserts ``rows`` (each with the same keys) with ``same`` added to every row; returns the
    result of ``returning`` when asked for (in no particular order)."""
    same = same or {}
    if session.get_bind().dialect.name != "postgresql":
        statement = insert(table)
        if returning is not None:
            return session.execute(statement.returning(returning), [{**row, **same} for row in rows])
        session.execute(statement, [{**row, **same} for row in rows])
        return None
    names = list(rows[0])
    columns = [func.unnest(bindparam(_ARRAY + name, type_=ARRAY(table.c[name].type))) for name in names]
    constants = [literal(value, table.c[name].type) for name, value in same.items()]
    source = insert(table).from_select([*names, *same], select(*columns, *constants))
    arrays = {_ARRAY + name: [row[name] for row in rows] for name in names}
    if returning is not None:
        return session.execute(source.returning(returning), arrays)
    session.execute(source, arrays)
    return None


def rows_of(parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None) -> list[Mapping[str, Any]]:
    """The rows an insert's execution parameters carry: one row, an executemany's list, or
    `insert_rows`' arrays (columns given alike to every row are not among them)."""
    if not parameters:
        return []
    if not isinstance(parameters, Mapping):
        return list(parameters)
    arrays = {key.removeprefix(_ARRAY): value for key, value in parameters.items() if key.startswith(_ARRAY)}
    if not arrays:
        return [parameters]
    return [dict(zip(arrays, values, strict=True)) for values in zip(*arrays.values(), strict=True)]
