"""Race and ethnicity groups, for every table that compares groups (the disparate-impact tables of
the transparency report, the annual report and the agreement impact preview) and for the
``demographic_skew`` rule: all of them read a stored value through `pars.records.codes`, so "B",
"Black" and "black" are one group whatever was typed (CONTRACT §4 keeps the value as entered).

- A value no list knows, an empty one, and the code for "Unknown" are one group,
  ``NOT_RECORDED``: it is not a group of people, so it never has a ratio.
- Small groups: a count from 1 to 10 is shown as "fewer than 11", and, so that it cannot be
  worked out from the total beside it, a second count is withheld as the public report does
  (`pars.oversight.suppression`, complementary suppression). A row with a hidden count has no
  ratio and no shares (share × total gives the count back).

The JSON keeps CONTRACT §10's members with their types (counts are exact numbers for the
oversight role, who reads the audit trail anyway); ``ratio`` is null for a suppressed or not
recorded group, and two members beyond the contract say why: ``suppressed`` and ``published``
(the counts as a page shows them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from typing import Any

from pars.oversight.suppression import SMALL, THRESHOLD, Relation, Shown, suppress
from pars.records.codes import ETHNICITY, RACE, UNKNOWN, CodeList

NOT_RECORDED = "Not recorded or not in the list"
FEWER = "fewer than 11"
WITHHELD = "withheld"

Group = tuple[str, str]


def _group(codes: CodeList, value: str | None) -> str:
    code = codes.classify(value)
    return NOT_RECORDED if code is None or code.code == UNKNOWN else code.label


def race_group(value: str | None) -> str:
    return _group(RACE, value)


def ethnicity_group(value: str | None) -> str:
    return _group(ETHNICITY, value)


def group_of(race: str | None, ethnicity: str | None) -> Group:
    """The (race, ethnicity) group of a record as stored, in words."""
    return race_group(race), ethnicity_group(ethnicity)


def recorded(group: Group) -> bool:
    return NOT_RECORDED not in group


def _order(group: Group) -> tuple[bool, bool, Group]:
    """Recorded groups first, by name; the not recorded ones last."""
    return (group[0] == NOT_RECORDED, group[1] == NOT_RECORDED, group)


def _published(value: Shown) -> Shown:
    return FEWER if value == SMALL else value


def disparate_impact(arrests: Counter[Group], disclosed: Counter[Group]) -> list[dict[str, Any]]:
    """One row per group: its share of the period's arrests against its share of the people
    disclosed; ``ratio`` above 1 means disclosed more often than arrested. ``ratio`` is null when
    the group had no arrests, is not recorded, or has a count hidden (see the module)."""
    arrests = Counter({g: n for g, n in arrests.items() if n})
    disclosed = Counter({g: n for g, n in disclosed.items() if n})
    groups = sorted(set(arrests) | set(disclosed), key=_order)
    arrested, shared = sum(arrests.values()), sum(disclosed.values())
    values: dict[Hashable, int] = {("all", "arrests"): arrested, ("all", "persons"): shared}
    for i, g in enumerate(groups):
        values[(i, "arrests")], values[(i, "persons")] = arrests[g], disclosed[g]
    relations = [
        Relation(("all", name), tuple((i, name) for i in range(len(groups)))) for name in ("arrests", "persons")
    ]
    shown = suppress(values, relations, public=[("all", "arrests"), ("all", "persons")])
    rows = []
    for i, (race, ethnicity) in enumerate(groups):
        arrest_share = arrests[(race, ethnicity)] / arrested if arrested else 0.0
        disclosure_share = disclosed[(race, ethnicity)] / shared if shared else 0.0
        hidden = not (isinstance(shown[(i, "arrests")], int) and isinstance(shown[(i, "persons")], int))
        rows.append({
            "race": race, "ethnicity": ethnicity,
            "arrests": arrests[(race, ethnicity)], "arrest_share": round(arrest_share, 4),
            "persons_disclosed": disclosed[(race, ethnicity)], "disclosure_share": round(disclosure_share, 4),
            "ratio": round(disclosure_share / arrest_share, 2)
            if arrest_share and not hidden and recorded((race, ethnicity)) else None,
            "suppressed": hidden,
            "published": {
                "arrests": _published(shown[(i, "arrests")]),
                "persons_disclosed": _published(shown[(i, "persons")]),
            },
        })  # fmt: skip
    return rows


def small(count: int) -> bool:
    return 0 < count < THRESHOLD
