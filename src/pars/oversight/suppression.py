"""Small-cell suppression for published counts (CONTRACT §10, "Public transparency").

A count from 1 to 10 is published as ``"<11"`` (primary suppression): so few people or requests
could point at someone. Because tables also publish totals, a hidden count could be recovered by
subtraction; so a second number of the same relation is hidden too (complementary suppression),
published as ``"withheld"``, until no relation pins a hidden number to one value.

The reader this protects against knows the rules (this module is public): a ``"<11"`` is
between 1 and 10, and a ``"withheld"`` number is 11 or more (complementary numbers are only
chosen among counts of 11 or more; a zero or a small count never is). It combines every
published relation: a sum (a total is the sum of its parts), a count of different people (over
months it is at most the sum of the months and at least the largest month), or a bound (records
disclosed are at least the people they were about; queries at least the refused ones).
``exposed`` is that reader: it narrows every hidden number's range through every relation
until nothing changes (interval propagation), and names each hidden number left with a single
possible value. ``suppress`` hides complementary numbers until ``exposed`` names none: it takes
the first relation that still pins a hidden member and hides, of that relation's other visible
members, the smallest part of 11 or more (else its total), then tries again. A relation that
gives a number back by itself is mended first (it is where a chain of inferences starts).

A total the page publishes elsewhere (``public``: the disparate-impact table's totals are the
report's own totals, under primary suppression there) is never withheld. Where such a total
leaves no part of 11 or more to hide and still pins a small one (11 and 1 out of 12: hiding the
11 as "11 or more" still gives it back), every part of that relation is withheld, zeros and
small counts too. The reader knows this rule, so of a relation whose parts are all withheld they
know only that each lies between 0 and the total.

Pure: numbers in, published values out; no database, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

SMALL = "<11"
WITHHELD = "withheld"
THRESHOLD = 11
# Propagation narrows ranges by whole numbers; a table's cycles converge in a few passes. The cap
# only bounds pathological inputs (and is far above what the published tables need).
_PASSES = 200

Shown = int | str
Range = tuple[float, float]


class Kind(StrEnum):
    SUM = "sum"  # total = sum of parts (queries over months)
    DISTINCT = "distinct"  # max(parts) <= total <= sum(parts) (different people over months)
    BOUND = "bound"  # total >= each part (records disclosed >= people disclosed; queries >= refused)


@dataclass(frozen=True)
class Relation:
    total: Hashable
    parts: tuple[Hashable, ...]
    kind: Kind = Kind.SUM

    @property
    def exact(self) -> bool:
        return self.kind == Kind.SUM


def shown_as(value: int) -> Shown:
    """Primary suppression alone: the number, or ``"<11"`` for 1 to 10."""
    return SMALL if 0 < value < THRESHOLD else value


def suppress(
    values: Mapping[Hashable, int], relations: Sequence[Relation], public: Collection[Hashable] = ()
) -> dict[Hashable, Shown]:
    """Every value as published: the number, ``"<11"`` or ``"withheld"`` (the ``public`` keys
    never ``"withheld"``). Raises ``ValueError`` when a relation names a key without a value or
    the values break a relation (a bug upstream: publishing inconsistent totals would be wrong
    whatever is hidden)."""
    _check(values, relations)
    shown: dict[Hashable, Shown] = {key: shown_as(value) for key, value in values.items()}
    while True:
        local = _ranges(shown, relations)
        ranges = propagate(shown, relations)
        if not any(_pins(r, shown, ranges) for r in relations):
            return shown
        # A relation that gives a number back by itself first; then one that does with what the
        # others tell. Each round hides one more number, or a whole relation's, so this ends.
        pinning = [r for r in relations if _pins(r, shown, local)] or [r for r in relations if _pins(r, shown, ranges)]
        candidate = next(
            (c for r in pinning if (c := _complement(r, values, shown, pinning, public)) is not None), None
        )
        if candidate is not None:
            shown[candidate] = WITHHELD
            continue
        closing = next((r for r in pinning if any(shown[p] != WITHHELD for p in r.parts)), None)
        if closing is None or closing.total not in public:
            raise ValueError("no number left to hide, yet a hidden one can be worked out")
        shown.update(dict.fromkeys(closing.parts, WITHHELD))


def exposed(shown: Mapping[Hashable, Shown], relations: Sequence[Relation]) -> set[Hashable]:
    """The hidden keys whose value a reader can work out from what is published."""
    ranges = propagate(shown, relations)
    return {key for key, value in shown.items() if isinstance(value, str) and ranges[key][0] == ranges[key][1]}


def reader_range(value: Shown) -> Range:
    if isinstance(value, int):
        return (value, value)
    if value == SMALL:
        return (1, THRESHOLD - 1)
    if value == WITHHELD:
        return (THRESHOLD, math.inf)
    raise ValueError(f"not a published count: {value!r}")


def _ranges(shown: Mapping[Hashable, Shown], relations: Sequence[Relation]) -> dict[Hashable, Range]:
    """Each number's range read alone, but for the parts of a relation withheld whole: 0 or more."""
    ranges = {key: reader_range(value) for key, value in shown.items()}
    for relation in relations:
        if relation.parts and all(shown[p] == WITHHELD for p in relation.parts):
            ranges.update(dict.fromkeys(relation.parts, (0, math.inf)))
    return ranges


def propagate(shown: Mapping[Hashable, Shown], relations: Sequence[Relation]) -> dict[Hashable, Range]:
    """What a reader knows of each number: its range after every relation has narrowed it."""
    ranges = _ranges(shown, relations)
    for _ in range(_PASSES):
        changed = False
        for relation in relations:
            for key, narrowed in _narrow(relation, ranges).items():
                if narrowed != ranges[key]:
                    ranges[key], changed = narrowed, True
        if not changed:
            break
    return ranges


def _narrow(relation: Relation, ranges: Mapping[Hashable, Range]) -> dict[Hashable, Range]:
    total = ranges[relation.total]
    parts = [ranges[p] for p in relation.parts]
    low_sum = sum(lo for lo, _ in parts)
    high_sum = sum(hi for _, hi in parts)
    result: dict[Hashable, Range] = {}
    if relation.kind == Kind.BOUND:
        for key, (lo, hi) in zip(relation.parts, parts, strict=True):
            result[key] = (lo, min(hi, total[1]))
        result[relation.total] = (max(total[0], max((lo for lo, _ in parts), default=0)), total[1])
        return result
    for key, (lo, hi) in zip(relation.parts, parts, strict=True):
        others_high = high_sum - hi if hi != math.inf else _sum_without(parts, key, relation)
        new_lo = max(lo, total[0] - others_high)
        new_hi = min(hi, total[1] - (low_sum - lo)) if relation.exact else min(hi, total[1])
        result[key] = (new_lo, new_hi)
    floor = low_sum if relation.exact else max((lo for lo, _ in parts), default=0)
    result[relation.total] = (max(total[0], floor), min(total[1], high_sum))
    return result


def _sum_without(parts: list[Range], key: Hashable, relation: Relation) -> float:
    """The sum of the other parts' upper bounds (inf minus inf is not a number)."""
    return sum(hi for other, (_, hi) in zip(relation.parts, parts, strict=True) if other != key)


def _pins(relation: Relation, shown: Mapping[Hashable, Shown], ranges: Mapping[Hashable, Range]) -> bool:
    """Whether this relation, read with everything the reader knows, leaves a hidden member of it
    a single value."""
    narrowed = _narrow(relation, ranges)
    return any(isinstance(shown[key], str) and lo == hi for key, (lo, hi) in narrowed.items())


def _complement(
    relation: Relation,
    values: Mapping[Hashable, int],
    shown: Mapping[Hashable, Shown],
    pinning: list[Relation],
    public: Collection[Hashable],
) -> Hashable | None:
    """A visible part of 11 or more: one that also mends another pinning relation (a row and a
    column at once) first, the smallest first; else the total when visible. One exists whenever
    the relation pins something: with every visible member zero (counts of 1 to 10 are hidden
    already) and the total hidden, no member is pinned; with the total visible it is 11 or more."""
    visible = [p for p in relation.parts if isinstance(shown[p], int) and values[p] >= THRESHOLD and p not in public]
    if visible:
        mends = {p: sum(p in (r.total, *r.parts) for r in pinning) for p in visible}
        return min(visible, key=lambda p: (-mends[p], values[p]))
    if isinstance(shown[relation.total], int) and values[relation.total] >= THRESHOLD and relation.total not in public:
        return relation.total
    return None


def _check(values: Mapping[Hashable, int], relations: Sequence[Relation]) -> None:
    for relation in relations:
        missing = [k for k in (relation.total, *relation.parts) if k not in values]
        if missing:
            raise ValueError(f"no value for {missing[0]!r}")
        parts = [values[p] for p in relation.parts]
        total = values[relation.total]
        holds = {
            Kind.SUM: total == sum(parts),
            Kind.DISTINCT: max(parts, default=0) <= total <= sum(parts),
            Kind.BOUND: max(parts, default=0) <= total,
        }[relation.kind]
        if not holds:
            raise ValueError(f"the values break the relation of {relation.total!r}")
    if any(v < 0 for v in values.values()):
        raise ValueError("counts are never negative")
