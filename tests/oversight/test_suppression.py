"""Small-cell suppression: counts 1 to 10 hidden as "<11", and complementary numbers hidden
until no published total, row or column gives a hidden count back."""

from __future__ import annotations

from collections.abc import Hashable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pars.oversight.suppression import SMALL, WITHHELD, Kind, Relation, exposed, propagate, suppress


def table(rows: list[list[int]]) -> tuple[dict[Hashable, int], list[Relation]]:
    """Cells (r, c), row totals (r, "T"), column totals ("T", c) and the grand total ("T", "T")."""
    values: dict[Hashable, int] = {}
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            values[(r, c)] = value
        values[(r, "T")] = sum(row)
    columns = range(len(rows[0]))
    for c in columns:
        values[("T", c)] = sum(row[c] for row in rows)
    values[("T", "T")] = sum(map(sum, rows))
    relations = [Relation((r, "T"), tuple((r, c) for c in columns)) for r in range(len(rows))]
    relations += [Relation(("T", c), tuple((r, c) for r in range(len(rows)))) for c in columns]
    relations.append(Relation(("T", "T"), tuple((r, "T") for r in range(len(rows)))))
    relations.append(Relation(("T", "T"), tuple(("T", c) for c in columns)))
    return values, relations


def hidden_in(relation: Relation, shown: dict[Hashable, int | str]) -> int:
    return sum(isinstance(shown[k], str) for k in (relation.total, *relation.parts))


def test_a_small_cell_alone_in_its_row_hides_the_smallest_other_cell() -> None:
    values, relations = table([[5, 30, 12], [40, 50, 60]])
    shown = suppress(values, relations)
    # Row 0 would give (0, 0) back as 47 - 30 - 12: the smallest other cell of the row, 12, goes;
    # column 2 then has one hidden cell, so its smallest other cell (row 1's 60) goes too, and
    # column 0 would give (0, 0) back from 45 - 40: 40 goes, and row 1 is left with two hidden.
    assert shown[(0, 0)] == SMALL
    assert shown[(0, 2)] == WITHHELD and shown[(1, 0)] == WITHHELD and shown[(1, 2)] == WITHHELD
    assert shown[(0, 1)] == 30 and shown[(1, 1)] == 50
    assert shown[(0, "T")] == 47 and shown[("T", "T")] == 197 and shown[("T", 1)] == 80
    assert exposed(shown, relations) == set()


def test_nothing_small_hides_nothing() -> None:
    values, relations = table([[0, 30], [11, 0]])
    assert suppress(values, relations) == values


def test_two_small_cells_of_a_row_that_add_up_to_twenty_are_both_ten() -> None:
    """10 + 10 = 20: the sum pins both, so something else must go."""
    values: dict[Hashable, int] = {"a": 10, "b": 10, "t": 20}
    relations = [Relation("t", ("a", "b"))]
    shown = suppress(values, relations)
    assert shown == {"a": SMALL, "b": SMALL, "t": WITHHELD}


def test_a_withheld_cell_of_eleven_beside_a_one_is_not_enough() -> None:
    """1 + x = 12 with x >= 11 gives x = 11 and the 1 back: the total goes too."""
    values: dict[Hashable, int] = {"a": 1, "b": 11, "t": 12}
    shown = suppress(values, [Relation("t", ("a", "b"))])
    assert shown == {"a": SMALL, "b": WITHHELD, "t": WITHHELD}


def test_a_small_total_is_hidden_with_its_only_part() -> None:
    values: dict[Hashable, int] = {"a": 0, "b": 7, "t": 7}
    assert suppress(values, [Relation("t", ("a", "b"))]) == {"a": 0, "b": SMALL, "t": SMALL}


def test_people_over_months_are_bounded_by_the_months_not_summed() -> None:
    """21 different people, 11 of them in one month: the other month had at least 10, so exactly 10."""
    values: dict[Hashable, int] = {"march": 10, "april": 11, "people": 21}
    relations = [Relation("people", ("march", "april"), kind=Kind.DISTINCT)]
    assert propagate({"march": SMALL, "april": 11, "people": 21}, relations)["march"] == (10, 10)
    shown = suppress(values, relations)
    assert shown["march"] == SMALL and exposed(shown, relations) == set()


def test_a_chain_of_relations_is_followed() -> None:
    """Row 0 is protected by its two small cells; but column 0 gives one of them back, which
    then gives the other back through the row."""
    values, relations = table([[3, 4, 20], [11, 0, 0]])
    assert exposed({k: SMALL if 0 < v < 11 else v for k, v in values.items()}, relations)
    shown = suppress(values, relations)
    assert exposed(shown, relations) == set()


def test_inconsistent_values_are_refused() -> None:
    with pytest.raises(ValueError, match="break the relation"):
        suppress({"a": 1, "b": 2, "t": 4}, [Relation("t", ("a", "b"))])
    with pytest.raises(ValueError, match="no value"):
        suppress({"a": 1, "t": 1}, [Relation("t", ("a", "b"))])


counts = st.one_of(st.just(0), st.integers(1, 10), st.integers(11, 60))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 4).flatmap(lambda width: st.lists(st.lists(counts, min_size=width, max_size=width),
                                                         min_size=1, max_size=5)))  # fmt: skip
def test_no_hidden_count_can_be_worked_out_from_a_table(rows: list[list[int]]) -> None:
    values, relations = table(rows)
    shown = suppress(values, relations)
    for key, value in values.items():
        if 1 <= value <= 10:
            assert shown[key] == SMALL
        elif shown[key] != value:
            assert shown[key] == WITHHELD and value >= 11, (key, value, shown[key])
    # Every relation with a hidden member has another hidden member (the total or a part) ...
    for relation in relations:
        assert hidden_in(relation, shown) != 1, (relation, shown)
    # ... and the reader who combines every row, column and total pins no hidden number.
    assert exposed(shown, relations) == set()
    ranges = propagate(shown, relations)
    for key, value in values.items():
        low, high = ranges[key]
        assert low <= value <= high  # the reader's ranges are true (the model is sound)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(counts, min_size=3, max_size=3), min_size=1, max_size=4), st.data())
def test_distinct_people_over_months_stay_hidden(rows: list[list[int]], data: st.DataObject) -> None:
    """Per row (an agency), people per month and over the period: at least the busiest month,
    at most the sum; and the records that carried them, per month and in total."""
    values: dict[Hashable, int] = {}
    relations = []
    for r, row in enumerate(rows):
        low, high = max(row), sum(row)
        values.update({(r, m): v for m, v in enumerate(row)})
        values[(r, "people")] = data.draw(st.integers(low, high))
        relations.append(Relation((r, "people"), tuple((r, m) for m in range(len(row))), kind=Kind.DISTINCT))
    shown = suppress(values, relations)
    # A bound, unlike a sum, may keep one hidden month safe alone (11 people, 11 of them in one
    # month: the other month had anywhere from 1 to 10); what counts is that none is pinned.
    assert exposed(shown, relations) == set()


def test_people_bound_the_records_that_carried_them() -> None:
    """Records in two months add up to 32; 20 and 12 different people: the records are at least
    the people, so 20 and 12 exactly, unless the people are hidden too."""
    values: dict[Hashable, int] = {
        "dec": 20,
        "jan": 12,
        "total": 32,
        "dec people": 20,
        "jan people": 12,
        "one": 3,
        "total with one": 35,
    }
    relations = [
        Relation("total", ("dec", "jan")),
        Relation("dec", ("dec people",), Kind.BOUND),
        Relation("jan", ("jan people",), Kind.BOUND),
    ]
    shown: dict[Hashable, int | str] = {**values, "dec": WITHHELD, "jan": WITHHELD}
    assert exposed(shown, relations) == {"dec", "jan"}
    relations.append(Relation("total with one", ("total", "one")))
    shown = suppress(values, relations)
    assert shown["one"] == SMALL and exposed(shown, relations) == set()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.tuples(counts, counts), min_size=3, max_size=3), min_size=1, max_size=3))
def test_records_and_people_tables_together_give_nothing_back(rows: list[list[tuple[int, int]]]) -> None:
    """A records table (rows, columns, totals) whose every cell bounds a people cell below it."""
    records = [[max(a, b) for a, b in row] for row in rows]
    values, relations = table(records)
    for r, row in enumerate(rows):
        for c, (a, b) in enumerate(row):
            values[("people", r, c)] = min(a, b)
            relations.append(Relation((r, c), (("people", r, c),), Kind.BOUND))
    shown = suppress(values, relations)
    assert exposed(shown, relations) == set()
    for relation in relations:
        if relation.exact:
            assert hidden_in(relation, shown) != 1
