"""``PersonMap.fill``: a query that disclosed one record (most of them, read without the loop
over records) learns what the general case would have told it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pars.oversight.trail import ArrestFacts, PersonMap, Query

NOON = datetime(2025, 3, 1, 17, tzinfo=UTC)


def _query(records: list[str]) -> Query:
    return Query(1, NOON, "ICE", "u1", "arrest.read", True, None, None, "", records, [], None)


@given(
    st.sampled_from(["a1", "a2"]),
    st.integers(-100, 100),
    st.sampled_from(["Black", "White", "Unknown"]),
)
def test_one_record_is_read_as_the_general_case_reads_it(record: str, hours: int, race: str) -> None:
    persons = PersonMap(recent_hours=48)
    persons._known = {
        "a1": ArrestFacts("p1", NOON - timedelta(hours=hours), race, "Hispanic"),
        "a2": ArrestFacts("p2", NOON + timedelta(hours=hours), "White", race),
    }
    one, twice = _query([record]), _query([record, record])  # twice: the same record, the general case
    persons.fill(None, [one, twice])  # type: ignore[arg-type]  # every record known: no session needed
    assert (one.persons, one.demographics, one.recent) == (twice.persons, twice.demographics, twice.recent)
    assert isinstance(one.recent, bool) and isinstance(twice.recent, bool)
