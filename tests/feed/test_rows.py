"""`insert_rows` writes what an executemany writes, in the order given: on PostgreSQL it sends
one array per column instead of a statement per row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, Table, delete, select

from pars.db import make_session_factory
from pars.feed.models import FeedEvent
from pars.feed.rows import insert_rows, rows_of

_events = cast(Table, FeedEvent.__table__)
START = datetime(2026, 3, 1, tzinfo=UTC)

row = st.fixed_dictionaries(
    {
        "agency": st.sampled_from(["FBI", "ATF"]),
        "event_id": st.uuids(),
        "outbox_seq": st.integers(1, 2**40),
        "type": st.text("abcdefghij.", min_size=1, max_size=48),
        "arrest_id": st.uuids(),
        "detainer_id": st.none() | st.uuids(),
        "occurred_at": st.integers(0, 10**12).map(lambda us: START + timedelta(microseconds=us)),
    }
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, min_size=1, max_size=40, unique_by=lambda r: r["event_id"]), returning=st.booleans())
def test_the_rows_are_written_as_given_in_order(db: Engine, rows: list[dict[str, Any]], returning: bool) -> None:
    rows = [{**r, "sequence": n} for n, r in enumerate(rows)]  # unique per agency
    created = START + timedelta(days=1)
    with make_session_factory(db)() as session, session.begin():
        session.execute(delete(_events))
        result = insert_rows(session, _events, rows, same={"created_at": created},
                             returning=_events.c.id if returning else None)  # fmt: skip
        ids = sorted(result.scalars()) if result is not None else None
        columns = [_events.c[name] for name in [*rows[0], "created_at"]]
        written = session.execute(select(_events.c.id, *columns).order_by(_events.c.id)).all()
        session.rollback()
    assert [dict(zip([*rows[0], "created_at"], r[1:], strict=True)) for r in written] == [
        {**r, "created_at": created} for r in rows
    ]
    assert ids is None or ids == [r[0] for r in written]


@given(rows=st.lists(st.fixed_dictionaries({"agency": st.sampled_from(["FBI", "ATF"]), "sequence": st.integers(1, 9)}),
                     min_size=1, max_size=5))  # fmt: skip
def test_the_rows_of_an_insert_read_back_from_any_form_of_its_parameters(rows: list[dict[str, Any]]) -> None:
    """What the NATS hook reads (`pars.feed.bus`): the same rows whether sent as one row, as an
    executemany's list, or as `insert_rows`' arrays."""
    arrays = {f"rows_{name}": [r[name] for r in rows] for name in rows[0]}
    assert rows_of(arrays) == rows
    assert rows_of(rows) == rows
    assert rows_of(rows[0]) == [rows[0]]
    assert rows_of(None) == [] and rows_of([]) == []
