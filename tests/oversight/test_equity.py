"""Equity tables (issue 15 item 4): people are grouped by the code lists whatever the spelling;
text no list knows is one line without a ratio; and no group of fewer than 11 people shows its
count, its shares or a ratio, nor can its count be worked out from what the table publishes."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from pars.oversight.groups import FEWER, NOT_RECORDED, Group, disparate_impact, group_of
from pars.oversight.suppression import Relation, exposed

# Spellings of the same groups, as clerks typed them before the lists existed.
SPELLINGS: dict[Group, list[tuple[str | None, str | None]]] = {
    ("Black or African American", "Not Hispanic or Latino"): [("B", "N"), ("Black", "Non-Hispanic"),
                                                              ("black", "not hispanic"), (" BLACK ", "N")],
    ("White", "Hispanic or Latino"): [("W", "H"), ("White", "Hispanic"), ("white", "latino"), ("Caucasian", "h")],
    ("Asian", "Not Hispanic or Latino"): [("A", "N"), ("asian", "Non-hispanic")],
    (NOT_RECORDED, NOT_RECORDED): [("Martian", "??"), (None, None), ("", "unknown"), ("Unknown", "U")],
}  # fmt: skip
TYPED = [(group, spelling) for group, spellings in SPELLINGS.items() for spelling in spellings]


def test_the_issue_s_table() -> None:
    """ "B" typed for race is no group of its own; "unknown" and "Unknown" are one line; one
    person makes no headline ratio."""
    arrests: Counter[Group] = Counter()
    for race, n in (("Black", 600), ("B", 40), ("black", 10), ("White", 300), ("unknown", 20), ("Unknown", 9)):
        arrests[group_of(race, "N")] += n
    disclosed = Counter({group_of("B", "N"): 50, group_of("White", "N"): 30, group_of("Asian", "N"): 1})
    arrests[group_of("Asian", "N")] += 3
    rows = {(r["race"], r["ethnicity"]): r for r in disparate_impact(arrests, disclosed)}
    assert set(rows) == {("Black or African American", "Not Hispanic or Latino"), ("White", "Not Hispanic or Latino"),
                         ("Asian", "Not Hispanic or Latino"), (NOT_RECORDED, "Not Hispanic or Latino")}  # fmt: skip
    black = rows[("Black or African American", "Not Hispanic or Latino")]
    assert black["arrests"] == 650 and black["ratio"] is not None and not black["suppressed"]
    asian = rows[("Asian", "Not Hispanic or Latino")]
    assert asian["ratio"] is None and asian["published"] == {"arrests": FEWER, "persons_disclosed": FEWER}
    unknown = rows[(NOT_RECORDED, "Not Hispanic or Latino")]
    assert unknown["arrests"] == 29 and unknown["ratio"] is None  # never a ratio


def test_a_small_group_beside_one_of_eleven_withholds_the_column() -> None:
    """11 and 1 of 12 people disclosed, the 12 published with the report's totals: showing the 11
    as "withheld" (11 or more) would still give the 1 back, and the total cannot be hidden, so
    the whole column is withheld (found by the property test below)."""
    disclosed = Counter({group_of("B", "N"): 11, group_of("W", "H"): 1})
    rows = disparate_impact(Counter({group_of("B", "N"): 40, group_of("W", "H"): 40}), disclosed)
    assert [row["published"]["persons_disclosed"] for row in rows] == ["withheld", "withheld"]
    assert [row["published"]["arrests"] for row in rows] == [40, 40]
    assert all(row["suppressed"] and row["ratio"] is None for row in rows)
    published: dict[object, int | str] = {
        ("all", "persons"): 12,
        (0, "persons"): "withheld",
        (1, "persons"): "withheld",
    }
    assert exposed(published, [Relation(("all", "persons"), ((0, "persons"), (1, "persons")))]) == set()


@given(st.lists(st.tuples(st.sampled_from(TYPED), st.integers(0, 40), st.integers(0, 15)), min_size=1, max_size=12))
def test_no_small_group_is_shown_and_spellings_are_one_group(
    entries: list[tuple[tuple[Group, tuple[str | None, str | None]], int, int]],
) -> None:
    arrests: Counter[Group] = Counter()
    disclosed: Counter[Group] = Counter()
    expected_arrests: Counter[Group] = Counter()
    for (group, (race, ethnicity)), arrested, shared in entries:
        arrests[group_of(race, ethnicity)] += arrested
        disclosed[group_of(race, ethnicity)] += shared
        expected_arrests[group] += arrested
    rows = disparate_impact(arrests, disclosed)
    by_group = {(r["race"], r["ethnicity"]): r for r in rows}
    # Equivalent spellings land in one group (one row each, the right counts).
    assert len(by_group) == len(rows)
    for group, count in expected_arrests.items():
        if count or disclosed[group]:
            assert by_group[group]["arrests"] == count
    published: dict[object, int | str] = {("all", "arrests"): sum(arrests.values()),
                                          ("all", "persons"): sum(disclosed.values())}  # fmt: skip
    for i, row in enumerate(rows):
        for name, count, shown in (("arrests", row["arrests"], row["published"]["arrests"]),
                                   ("persons", row["persons_disclosed"], row["published"]["persons_disclosed"])):  # fmt: skip
            # No shown group has fewer than 11 persons: a count of 1 to 10 is never published.
            assert not (isinstance(shown, int) and 0 < shown < 11)
            assert shown in (count, FEWER, "withheld")
            published[(i, name)] = "<11" if shown == FEWER else shown
        if row["suppressed"] or NOT_RECORDED in (row["race"], row["ethnicity"]):
            assert row["ratio"] is None
        else:
            assert row["arrests"] >= 11 or row["arrests"] == 0
    # What a reader of the table (with the totals, shown elsewhere) can work out: no hidden count.
    for total in ("arrests", "persons"):
        if isinstance(published[("all", total)], int) and 0 < published[("all", total)] < 11:  # type: ignore[operator]
            published[("all", total)] = "<11"
    relations = [Relation(("all", name), tuple((i, name) for i in range(len(rows)))) for name in ("arrests", "persons")]
    assert exposed(published, relations) == set()
