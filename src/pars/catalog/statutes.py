"""Pennsylvania statute references: one canonical form, parsed from what people and courts write.

The canonical form is the one the reference data uses, so a parsed statute is a catalog key as
it stands: the section as written (`2701`, `6110.2`, `780-113`), the subsection with its
parentheses dropped and upper-cased (`(a)(1)` → `A1`, `(d)(1)(i)` → `D1I`, `(a.1)(1)` → `A.11`).

Trailing asterisks are dropped. The court system appends them to count prior offenses
(`75 § 3802 §§ A1**` is a second DUI), which grades a charge but does not change which statute
it is. The `*P` of a permitting violation (`75 § 3802 §§ A1*P`) is a different offense and is
kept as part of the subsection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Statute", "StatuteSyntaxError", "parse_statute", "statute_from_parts"]


class StatuteSyntaxError(ValueError):
    """The text is not a statute reference this module can read."""


_SECTION = r"[0-9][0-9A-Z]*(?:[.\-][0-9A-Z]+)*"
_SUBSECTION = r"[0-9A-Z](?:[0-9A-Z.\-]*[0-9A-Z])?(?:\*P)?"
_CANONICAL_SECTION = re.compile(_SECTION)
_CANONICAL_SUBSECTION = re.compile(_SUBSECTION)

# A section written with its subsection in parentheses: `2701(a)(1)`, `1943.5(1)`.
_SECTION_WITH_PARENS = re.compile(rf"(?P<section>{_SECTION})\s*(?P<parens>(?:\([0-9A-Z.\-]+\)\s*)+)")
# A subsection as people write it; parentheses and `*P` are settled by _normalise_subsection.
_LOOSE_SUBSECTION = re.compile(r"(?:[0-9A-Z.\-]|\([0-9A-Z.\-]+\))+(?:\*P)?")

# Upper-cased, whitespace-collapsed input. The code designation (Pa.C.S., Pa.C.S.A., P.S.) is
# optional because the court display form leaves it out.
_HEAD = (
    r"(?P<title>[0-9]+) ?"
    r"(?:(?:PA\. ?C\. ?S\.?(?: ?A\.?)?|P\. ?S\.?) ?)?"
    rf"§ ?(?P<section>{_SECTION})"
)
_STATUTE_HEAD = re.compile(_HEAD)
_STATUTE = re.compile(
    _HEAD + r"(?:"
    r" ?§§? ?(?P<subsection>(?:[0-9A-Z.\-]|\([0-9A-Z.\-]+\))+(?:\*P)?)"
    r"|"
    r" ?(?P<parens>(?:\([0-9A-Z.\-]+\) ?)+)"
    r")?"
    r" ?\**"
)

_FORMS = "'18 § 2701 §§ A1' (optionally ending in '*'), '18 § 2701' or '18 Pa.C.S. § 2701(a)(1)'"


@dataclass(frozen=True)
class Statute:
    """A statute in canonical form; construct it through `parse_statute` or `statute_from_parts`.

    The constructor refuses non-canonical parts instead of fixing them, so two equal-looking
    statutes are always equal and hash alike (the catalog is a dict keyed by them).
    """

    title: int
    section: str
    subsection: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.title, bool) or not isinstance(self.title, int) or self.title < 1:
            raise StatuteSyntaxError(f"title must be a positive integer, not {self.title!r}")
        if not isinstance(self.section, str) or not _CANONICAL_SECTION.fullmatch(self.section):
            raise StatuteSyntaxError(
                f"section {self.section!r} is not in canonical form (digits, upper-case letters,"
                " '.' and '-', e.g. '2701', '6110.2', '780-113'); use statute_from_parts to normalise"
            )
        if self.subsection is not None and (
            not isinstance(self.subsection, str) or not _CANONICAL_SUBSECTION.fullmatch(self.subsection)
        ):
            raise StatuteSyntaxError(
                f"subsection {self.subsection!r} is not in canonical form (upper case, no parentheses,"
                " no trailing '*', e.g. 'A1', 'D1I', 'A.11'); use statute_from_parts to normalise"
            )

    @property
    def display(self) -> str:
        """The form the Pennsylvania court system prints, e.g. `18 § 2701 §§ A1`."""
        if self.subsection is None:
            return f"{self.title} § {self.section}"
        return f"{self.title} § {self.section} §§ {self.subsection}"

    @property
    def section_statute(self) -> Statute:
        """This statute without its subsection (itself when it has none)."""
        if self.subsection is None:
            return self
        return Statute(self.title, self.section)

    def __str__(self) -> str:
        return self.display


def parse_statute(text: str) -> Statute:
    """Read the court display form (`18 § 2701 §§ A1`, `18 § 2701 §§ A1*`, `18 §2701`) or a
    citation (`18 Pa.C.S. § 2701(a)(1)`, `35 P.S. § 780-113(a)(30)`).

    Case and white space do not matter. Raises StatuteSyntaxError naming the accepted forms.
    """
    if not isinstance(text, str):
        raise StatuteSyntaxError(f"a statute must be given as text, not {type(text).__name__}")
    compact = " ".join(text.split()).upper()
    if not compact:
        raise StatuteSyntaxError(f"statute is empty; expected a form like {_FORMS}")
    match = _STATUTE.fullmatch(compact)
    if match is None:
        raise StatuteSyntaxError(_explain(text.strip(), compact))
    subsection = match["subsection"] or match["parens"]
    return statute_from_parts(int(match["title"]), match["section"], subsection)


def statute_from_parts(title: int, section: str, subsection: str | None) -> Statute:
    """Build a canonical statute from separately stored or entered parts.

    A section that carries its subsection in parentheses (`1943.5(1)`, as one row of the source
    data does) is split, as long as no separate subsection is given as well.
    """
    if isinstance(title, bool) or not isinstance(title, int):
        raise StatuteSyntaxError(f"title must be an integer, not {title!r}")
    if not isinstance(section, str):
        raise StatuteSyntaxError(f"section must be text, not {section!r}")
    section_text = "".join(section.split()).upper()
    with_parens = _SECTION_WITH_PARENS.fullmatch(section_text)
    if with_parens is not None:
        if subsection is not None and subsection.strip("* \t"):
            raise StatuteSyntaxError(
                f"section {section!r} already carries a subsection in parentheses;"
                f" cannot add subsection {subsection!r} as well"
            )
        section_text, subsection = with_parens["section"], with_parens["parens"]
    if not _CANONICAL_SECTION.fullmatch(section_text):
        raise StatuteSyntaxError(
            f"section {section!r} is not a statute section (expected digits, letters, '.' and '-',"
            " starting with a digit, e.g. '2701', '6110.2', '780-113')"
        )
    return Statute(title, section_text, _normalise_subsection(subsection))


def _normalise_subsection(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise StatuteSyntaxError(f"subsection must be text, not {raw!r}")
    text = "".join(raw.split()).upper().rstrip("*")
    if not text:
        return None
    if not _LOOSE_SUBSECTION.fullmatch(text):
        raise StatuteSyntaxError(
            f"subsection {raw!r} is not a statute subsection (expected e.g. 'A1', '(a)(1)', 'D1I', 'A1*P')"
        )
    canonical = text.replace("(", "").replace(")", "")
    if not _CANONICAL_SUBSECTION.fullmatch(canonical):
        raise StatuteSyntaxError(
            f"subsection {raw!r} is not a statute subsection (expected e.g. 'A1', '(a)(1)', 'D1I', 'A1*P')"
        )
    return canonical


def _explain(text: str, compact: str) -> str:
    head = _STATUTE_HEAD.match(compact)
    if head is None:
        return f"cannot read {text!r} as a statute; expected a form like {_FORMS}"
    rest = compact[head.end() :].strip()
    return (
        f"cannot read {text!r} as a statute: {rest!r} after {head.group(0).strip()!r} is not a subsection;"
        f" expected a form like {_FORMS}"
    )
