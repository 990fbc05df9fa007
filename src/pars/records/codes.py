"""The controlled code lists a booking uses (issue 15): sex, race and ethnicity as the NCIC/UCR
codes the FBI uses, stored as the code and shown as words; and the facilities and release reasons
offered by the custody forms, stored as the words themselves.

CONTRACT §4 keeps `person.sex`, `person.race` and `person.ethnicity` as strings as entered: the API
stores what a client sends. The pages offer only these lists, the demo books with them, and a
migration rewrote recognised free text to its code. Everything that counts people by group
(disparate impact, demographic skew) reads a value through `classify`, so "B", "Black" and
"black" are one group, and text no list knows is its own "not recorded" line, never a group.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    label: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CodeList:
    name: str
    codes: tuple[Code, ...]
    _index: dict[str, Code] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {_key(text): c for c in self.codes for text in (c.code, c.label, *c.synonyms)}
        object.__setattr__(self, "_index", index)

    def label(self, value: str | None) -> str | None:
        """The words for a stored value: the code's label, or the value itself when no code knows it."""
        if value is None:
            return None
        code = self.classify(value)
        return code.label if code else value

    def classify(self, value: str | None) -> Code | None:
        if value is None:
            return None
        return self._index.get(_key(value))

    def choices(self) -> list[tuple[str, str]]:
        return [(c.code, c.label) for c in self.codes]


def _key(value: str) -> str:
    return " ".join(value.replace("-", " ").casefold().split())


UNKNOWN = "U"

SEX = CodeList(
    "sex",
    (
        Code("M", "Male", ("man",)),
        Code("F", "Female", ("woman",)),
        Code("X", "Non-binary or another sex", ("nonbinary", "non binary", "other")),
        Code(UNKNOWN, "Unknown", ("not known", "not recorded", "unk")),
    ),
)

RACE = CodeList(
    "race",
    (
        Code("W", "White", ("caucasian",)),
        Code("B", "Black or African American", ("black", "african american")),
        Code("A", "Asian"),
        Code("I", "American Indian or Alaska Native", ("american indian", "alaska native", "native american")),
        Code(
            "P",
            "Native Hawaiian or Other Pacific Islander",
            ("native hawaiian", "pacific islander", "native hawaiian or pacific islander"),
        ),
        Code(UNKNOWN, "Unknown", ("not known", "not recorded", "unk")),
    ),
)

ETHNICITY = CodeList(
    "ethnicity",
    (
        Code("H", "Hispanic or Latino", ("hispanic", "latino", "latina", "latinx")),
        Code("N", "Not Hispanic or Latino", ("non hispanic", "not hispanic", "non hispanic or latino")),
        Code(UNKNOWN, "Unknown", ("not known", "not recorded", "unk")),
    ),
)

PERSON_CODES = {"sex": SEX, "race": RACE, "ethnicity": ETHNICITY}

# Philadelphia Department of Prisons facilities a magistrate commits to; stored as the name.
FACILITIES = (
    "Curran-Fromhold Correctional Facility",
    "Detention Center",
    "Riverside Correctional Facility",
    "Philadelphia Industrial Correctional Center",
    "Alternative and Special Detention",
)

RELEASE_REASONS = (
    "bail posted",
    "released on own recognizance",
    "released on bail conditions",
    "released by court order",
    "charges declined",
    "charges withdrawn",
    "transferred to another agency",
)
