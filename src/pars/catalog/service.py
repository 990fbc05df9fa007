"""The offense catalog: which Pennsylvania statutes exist and which grades courts recorded for them.

Loaded once from the JSON that `pars.catalog.build` derives from the reference data (see
data/PROVENANCE.md), so the running project never reads /work/shared. The data is of about 2016
vintage: a grade the legislature added later is "not recorded" here, which is why the error says
what *was* recorded rather than claiming the grade is illegal.
"""

from __future__ import annotations

import functools
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from importlib import resources
from typing import Any

from pars.catalog.statutes import Statute, StatuteSyntaxError, parse_statute

__all__ = [
    "COLUMNS",
    "DATA_FILE",
    "FORMAT_VERSION",
    "Catalog",
    "CatalogEntry",
    "GradeNotRecorded",
    "Offense",
    "SealingExclusion",
    "UnknownStatute",
    "get_catalog",
]

DATA_FILE = "pa_offenses.json"
# Bump when the row layout changes; the loader refuses a file it does not understand rather
# than serving a catalog with silently missing fields.
FORMAT_VERSION = 1
# Rows are positional to keep the packaged file small; the file names its columns and the loader
# checks them, so a reordering cannot be misread.
COLUMNS = ("title", "section", "subsection", "names", "grades", "sealing_exclusion")

# Most to least serious; used to list grades in messages and forms. H = murder, F = felony,
# M = misdemeanour, S = summary (S1–S8 are the graded summaries of the Game and Wildlife Code),
# IC = indirect criminal contempt. An ungraded F, M or S follows its graded degrees.
_GRADE_ORDER = (
    *("H1", "H2", "H", "F1", "F2", "F3", "F", "M1", "M2", "M3", "M"),
    *(f"S{degree}" for degree in range(1, 9)),
    *("S", "IC"),
)
_GRADE_RANK = {grade: rank for rank, grade in enumerate(_GRADE_ORDER)}
# A grade recorded for fewer than 1 in RARE_SHARE of an offense's charges is marked rare on the forms.
RARE_SHARE = 100

_WORD = re.compile(r"[0-9a-z]+")
_DIGITS = re.compile(r"[0-9]+")
_RUNS = re.compile(r"[0-9]+|[^0-9]+")


class UnknownStatute(LookupError):
    """No charge under this statute is recorded in the reference data."""

    def __init__(self, statute: Statute, detail: str) -> None:
        super().__init__(detail)
        self.statute = statute


class GradeNotRecorded(ValueError):
    """The statute is known, but courts never recorded this grade for it."""

    def __init__(self, offense: Offense, grade: str) -> None:
        recorded = ", ".join(offense.ordered_grades)
        super().__init__(
            f"grade {normalise_grade(grade) or '(blank)'} is not recorded for {offense.statute.display}"
            f" ({offense.description}); recorded grades: {recorded}"
        )
        self.offense = offense
        self.grade = grade
        self.recorded = offense.ordered_grades


class SealingExclusion(IntEnum):
    """The reference data's `sealing_exclusion` flag for one grade of a statute.

    The source's grade page renders 1 as "exclude" and 2 as "maybe" (Clean Slate sealing), so
    CONDITIONAL means the facts of the case decide. That page also shows every grade other than
    M, M2, M3 and S as excluded whatever the flag says; this catalog reports the flag as recorded
    and leaves such rules to whoever decides sealing.
    """

    NONE = 0
    EXCLUDED = 1
    CONDITIONAL = 2


@dataclass(frozen=True)
class Offense:
    """One statute as the catalog knows it.

    `grades` are the grades recorded for this exact statute: a subsection's own grades, or for a
    bare section every grade recorded under the section.
    """

    statute: Statute
    description: str
    grades: frozenset[str]
    # Only grades with a flag other than NONE, sorted; a tuple keeps the offense hashable.
    sealing: tuple[tuple[str, SealingExclusion], ...] = ()
    # How many charges courts recorded under each grade, most often first (issue 15: the usual
    # grade is offered first, rare ones are marked). Empty for an offense made without counts.
    grade_counts: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    @property
    def ordered_grades(self) -> tuple[str, ...]:
        """The recorded grades, most serious first."""
        return tuple(sorted(self.grades, key=grade_sort_key))

    @property
    def usual_grades(self) -> tuple[str, ...]:
        """The recorded grades, the most often recorded first (ties: most serious first)."""
        counts = dict(self.grade_counts)
        return tuple(sorted(self.grades, key=lambda g: (-counts.get(g, 0), grade_sort_key(g))))

    def rare_grade(self, grade: str) -> bool:
        """Recorded for under 1 in 100 of this offense's charges: a grade to double-check."""
        total = sum(count for _, count in self.grade_counts)
        return total > 0 and dict(self.grade_counts).get(normalise_grade(grade), 0) * RARE_SHARE < total

    def sealing_exclusion(self, grade: str) -> SealingExclusion:
        wanted = normalise_grade(grade)
        for flagged, exclusion in self.sealing:
            if flagged == wanted:
                return exclusion
        return SealingExclusion.NONE


@dataclass(frozen=True)
class CatalogEntry:
    """An offense with what search needs besides it: every recorded name (the description is
    only the most frequent) and how many charges were recorded, to rank popular statutes first."""

    offense: Offense
    names: tuple[str, ...]
    charged: int


def normalise_grade(grade: str) -> str:
    return grade.strip().upper()


def grade_sort_key(grade: str) -> tuple[int, str]:
    """Orders grades most serious first; grades outside the known scale go last, alphabetically."""
    return (_GRADE_RANK.get(grade, len(_GRADE_RANK)), grade)


@dataclass(frozen=True)
class _Searchable:
    entry: CatalogEntry
    compact: str  # display form without white space, for statute-prefix search
    words: tuple[str, ...]
    order: tuple[Any, ...]


class _SearchIndex:
    """What search, iteration and error messages need; built on first use so that loading the
    catalog for lookups stays a single pass over the rows."""

    def __init__(self, entries: Iterable[CatalogEntry]) -> None:
        searchable = [
            _Searchable(
                entry=entry,
                compact="".join(entry.offense.statute.display.split()),
                words=tuple(sorted({word for name in entry.names for word in _WORD.findall(name.lower())})),
                order=_statute_order(entry.offense.statute),
            )
            for entry in entries
        ]
        # Search walks this list, so its order is the tie-break between equally good matches.
        self.ordered = sorted(searchable, key=lambda item: item.order)
        subsections: defaultdict[Statute, list[str]] = defaultdict(list)
        for item in self.ordered:
            statute = item.entry.offense.statute
            if statute.subsection is not None:
                subsections[statute.section_statute].append(statute.subsection)
        self.subsections = {section: tuple(names) for section, names in subsections.items()}


class Catalog:
    """Statute lookup and search; every lookup is one dict access."""

    def __init__(self, entries: Iterable[CatalogEntry]) -> None:
        self._by_statute: dict[Statute, CatalogEntry] = {}
        for entry in entries:
            statute = entry.offense.statute
            if statute in self._by_statute:
                raise ValueError(f"{statute.display} appears twice in the catalog")
            self._by_statute[statute] = entry

    @classmethod
    def from_json(cls, raw: bytes | str) -> Catalog:
        """Read the file written by `pars.catalog.build`."""
        document = json.loads(raw)
        if document.get("format") != FORMAT_VERSION:
            raise ValueError(
                f"catalog data has format {document.get('format')!r}, this code reads format"
                f" {FORMAT_VERSION}; rebuild it with `python -m pars.catalog.build`"
            )
        if tuple(document.get("columns", ())) != COLUMNS:
            raise ValueError(f"catalog data has columns {document.get('columns')!r}, expected {list(COLUMNS)}")
        return cls(_entry_from_row(*row) for row in document["statutes"])

    @functools.cached_property
    def _index(self) -> _SearchIndex:
        return _SearchIndex(self._by_statute.values())

    def __len__(self) -> int:
        return len(self._by_statute)

    def __contains__(self, statute: object) -> bool:
        return statute in self._by_statute

    def __iter__(self) -> Iterator[Offense]:
        """Every offense in statute order (title, then section and subsection read numerically)."""
        return (item.entry.offense for item in self._index.ordered)

    def lookup(self, statute: Statute) -> Offense:
        entry = self._by_statute.get(statute)
        if entry is None:
            raise UnknownStatute(statute, self._unknown_detail(statute))
        return entry.offense

    def validate(self, statute: Statute, grade: str) -> Offense:
        """The offense, if `grade` (any case, surrounding blanks ignored) was recorded for it."""
        offense = self.lookup(statute)
        if normalise_grade(grade) not in offense.grades:
            raise GradeNotRecorded(offense, grade)
        return offense

    def search(self, text: str, limit: int = 20) -> list[Offense]:
        """Offenses whose statute starts with `text` (`18 § 61`, `18 Pa.C.S. § 2701(a)`), then
        offenses whose recorded names contain every word of `text` as a word prefix.

        Statute matches list sections before subsections, in statute order; name matches list
        the most often charged first.
        """
        if limit <= 0 or not text.strip():
            return []
        ordered = self._index.ordered
        found: dict[Statute, Offense] = {}
        prefix = _statute_prefix(text)
        if prefix:
            statute_hits = [item for item in ordered if item.compact.startswith(prefix)]
            statute_hits.sort(key=lambda item: item.entry.offense.statute.subsection is not None)  # stable
            for item in statute_hits[:limit]:
                found[item.entry.offense.statute] = item.entry.offense
        tokens = _WORD.findall(text.lower())
        if tokens and len(found) < limit:
            name_hits = [
                item for item in ordered if all(any(word.startswith(token) for word in item.words) for token in tokens)
            ]
            name_hits.sort(key=lambda item: -item.entry.charged)  # stable: statute order breaks ties
            for item in name_hits:
                if len(found) >= limit:
                    break
                found.setdefault(item.entry.offense.statute, item.entry.offense)
        return list(found.values())

    def _unknown_detail(self, statute: Statute) -> str:
        section = statute.section_statute
        section_entry = self._by_statute.get(section)
        if statute.subsection is not None and section_entry is not None:
            recorded = ", ".join(self._index.subsections.get(section, ())) or "none"
            return (
                f"{statute.display} is not in the catalog: no charges are recorded under subsection"
                f" {statute.subsection} of {section.display} ({section_entry.offense.description});"
                f" recorded subsections: {recorded}"
            )
        return f"{statute.display} is not in the catalog: no charges are recorded under {section.display}"


@functools.cache
def get_catalog() -> Catalog:
    """The packaged catalog, read on first use and shared afterwards (it is immutable)."""
    raw = resources.files("pars.catalog").joinpath("data").joinpath(DATA_FILE).read_bytes()
    return Catalog.from_json(raw)


def _entry_from_row(
    title: int,
    section: str,
    subsection: str | None,
    names: list[list[Any]],
    grades: dict[str, int],
    sealing_exclusion: dict[str, int],
) -> CatalogEntry:
    statute = Statute(title, section, subsection)
    sealing = tuple(sorted((grade, SealingExclusion(flag)) for grade, flag in sealing_exclusion.items()))
    counts = tuple(sorted(grades.items(), key=lambda item: (-item[1], grade_sort_key(item[0]))))
    offense = Offense(
        statute=statute, description=names[0][0], grades=frozenset(grades), sealing=sealing, grade_counts=counts
    )
    return CatalogEntry(offense=offense, names=tuple(name for name, _count in names), charged=sum(grades.values()))


def _statute_prefix(text: str) -> str:
    """The compact display form a statute must start with to match `text`, or "" if `text` does
    not look like the start of a statute."""
    try:
        return "".join(parse_statute(text).display.split())
    except StatuteSyntaxError:
        pass
    compact = "".join(text.split()).upper()
    if _DIGITS.fullmatch(compact):
        return compact + "§"  # a bare title: `18` must not match title 180
    if compact[:1].isdigit() and "§" in compact:
        return compact  # an incomplete display form such as `18 §` or `18 § 2701 §§`
    return ""


def _natural(text: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key reading digit runs as numbers, so section 907 comes before 6106 and subsection
    A2 before A10. Each run is tagged so numbers and letters never get compared directly."""
    return tuple((0, int(run), "") if run.isdigit() else (1, 0, run) for run in _RUNS.findall(text))


def _statute_order(statute: Statute) -> tuple[Any, ...]:
    return (statute.title, _natural(statute.section), _natural(statute.subsection or ""))
