"""Derive the packaged catalog (data/pa_offenses.json) from the Expungement Generator grade tables.

    python -m pars.catalog.build [--source DIR] [--output FILE]

Run from the repository root; DIR defaults to ../shared/data. The output is byte-for-byte
reproducible (rows and keys sorted, input checksums recorded), so a test can rebuild it and
compare. What the derivation keeps, merges and drops is written up in data/PROVENANCE.md; keep
the two in step.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pars.catalog.service import COLUMNS, DATA_FILE, FORMAT_VERSION
from pars.catalog.statutes import Statute, StatuteSyntaxError, statute_from_parts

SECTIONS_CSV = "pa_charge_grades_crimes_wo_subsection.csv"
SUBSECTIONS_CSV = "pa_charge_grades_crimes_w_subsection.csv"
SECTIONS_COLUMNS = ("Name", "Title", "Section", "Grade", "Number", "Total", "Percent", "sealing_exclusion")
SUBSECTIONS_COLUMNS = (
    "Name", "Title", "Section", "Subsection", "Grade", "Number", "Total_W_Subsection",
    "Percent_W_Subsection", "Total_wo_Subsection", "Percent_wo_Subsection", "sealing_exclusion",
)  # fmt: skip
SOURCE = "mhollander/Expungement-Generator grades.sql @ 3e0bb9597a4472037712c57e3c27050e715292a1"

DEFAULT_SOURCE = Path("../shared/data")
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "data" / DATA_FILE

# Local ordinances carry codes such as LO, CO or 2OF2004 as their "title"; statutes have numbers.
_INTEGER_TITLE = re.compile(r"[0-9]+")
_GRADE = re.compile(r"[A-Z]{1,2}[0-9]?")
# The MySQL dump escaped the separators in a few names (`Produce\\Present\\Direct`).
_BACKSLASHES = re.compile(r"\\+")


class BuildError(Exception):
    """The source data is not what this derivation was written for; fix the script, not the data."""


@dataclass
class _Tally:
    names: Counter[str] = field(default_factory=Counter)
    grades: Counter[str] = field(default_factory=Counter)
    sealing: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, grade: str, number: int, sealing: int) -> None:
        self.names[name] += number
        self.grades[grade] += number
        # Rows merged into one statute (`A1*` and `A1`) may disagree; keep the stricter flag.
        self.sealing[grade] = max(sealing, self.sealing.get(grade, 0))


@dataclass
class BuildSummary:
    sections: int
    subsections: int
    dropped_titles: Counter[str]
    output: Path | None = None


@dataclass(frozen=True)
class _Row:
    statute: Statute
    name: str
    grade: str
    number: int
    sealing: int


def build_catalog(source: Path) -> tuple[bytes, BuildSummary]:
    """The catalog file's bytes, derived from the two CSVs in `source`."""
    sections: defaultdict[Statute, _Tally] = defaultdict(_Tally)
    subsections: defaultdict[Statute, _Tally] = defaultdict(_Tally)
    dropped: Counter[str] = Counter()

    for row in _rows(source / SECTIONS_CSV, SECTIONS_COLUMNS, dropped, subsection_column=None):
        # A section written with its subsection in parentheses (`1943.5(1)`) counts for the section.
        sections[row.statute.section_statute].add(row.name, row.grade, row.number, row.sealing)
    for row in _rows(source / SUBSECTIONS_CSV, SUBSECTIONS_COLUMNS, dropped, subsection_column="Subsection"):
        # Rows without a subsection are already counted in the per-section file.
        if row.statute.subsection is not None:
            subsections[row.statute].add(row.name, row.grade, row.number, row.sealing)

    orphans = sorted(s.display for s in subsections if s.section_statute not in sections)
    if orphans:
        raise BuildError(f"subsections without a section in {SECTIONS_CSV}: {', '.join(orphans[:10])}")

    tallies = {**sections, **subsections}
    ordered = sorted(tallies, key=lambda s: (s.title, s.section, s.subsection or ""))
    lines = [
        json.dumps(
            _row_document(statute, tallies[statute]),
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        )
        for statute in ordered
    ]
    header = json.dumps(
        {
            "columns": list(COLUMNS),
            "format": FORMAT_VERSION,
            "source": SOURCE,
            "inputs": {name: _sha256(source / name) for name in (SECTIONS_CSV, SUBSECTIONS_CSV)},
            "provenance": "see PROVENANCE.md next to this file",
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    # One statute per line keeps the file diffable; the outer braces are stitched by hand for that.
    text = header[:-1] + ',"statutes":[\n' + ",\n".join(lines) + "\n]}\n"
    summary = BuildSummary(sections=len(sections), subsections=len(subsections), dropped_titles=dropped)
    return text.encode("utf-8"), summary


def write_catalog(source: Path, output: Path) -> BuildSummary:
    data, summary = build_catalog(source)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    summary.output = output
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pars.catalog.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="directory holding the two grade CSVs")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="catalog file to write")
    args = parser.parse_args(argv)
    source = args.source.resolve()
    for name in (SECTIONS_CSV, SUBSECTIONS_CSV):
        if not (source / name).is_file():
            parser.error(f"{source / name} not found (run from the repository root or pass --source)")
    try:
        summary = write_catalog(source, args.output)
    except BuildError as error:
        print(f"build failed: {error}", file=sys.stderr)
        return 1
    dropped = ", ".join(f"{title} ×{count}" for title, count in sorted(summary.dropped_titles.items()))
    print(
        f"wrote {summary.output}: {summary.sections} sections, {summary.subsections} subsections;"
        f" dropped rows with non-integer titles: {dropped or 'none'}"
    )
    return 0


def _rows(
    path: Path, columns: tuple[str, ...], dropped: Counter[str], *, subsection_column: str | None
) -> Iterator[_Row]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != columns:
            raise BuildError(f"{path.name}: expected columns {columns}, found {reader.fieldnames}")
        for record in reader:
            line = reader.line_num
            title = record["Title"].strip()
            if not _INTEGER_TITLE.fullmatch(title):
                dropped[title] += 1
                continue
            subsection = record[subsection_column] if subsection_column else None
            try:
                statute = statute_from_parts(int(title), record["Section"], subsection or None)
            except StatuteSyntaxError as error:
                raise BuildError(f"{path.name} line {line}: {error}") from error
            yield _Row(
                statute=statute,
                name=_clean_name(record["Name"]),
                grade=_grade(record["Grade"], path, line),
                number=_non_negative(record["Number"], "Number", path, line),
                sealing=_sealing(record["sealing_exclusion"], path, line),
            )


def _row_document(statute: Statute, tally: _Tally) -> list[object]:
    """One statute as a positional row, in the order of `COLUMNS`."""
    return [
        statute.title,
        statute.section,
        statute.subsection,
        # Most frequent first: the first name is the offense's description.
        [[name, count] for name, count in sorted(tally.names.items(), key=lambda item: (-item[1], item[0]))],
        dict(tally.grades),
        # Only flagged grades; an absent grade means 0 (not excluded).
        {grade: flag for grade, flag in tally.sealing.items() if flag},
    ]


def _clean_name(raw: str) -> str:
    return " ".join(_BACKSLASHES.sub("/", raw).split())


def _grade(raw: str, path: Path, line: int) -> str:
    grade = raw.strip().upper()
    if not _GRADE.fullmatch(grade):
        raise BuildError(f"{path.name} line {line}: unexpected grade {raw!r}")
    return grade


def _non_negative(raw: str, column: str, path: Path, line: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise BuildError(f"{path.name} line {line}: {column} {raw!r} is not a count")
    return value


def _sealing(raw: str, path: Path, line: int) -> int:
    if raw.strip() not in {"0", "1", "2"}:
        raise BuildError(f"{path.name} line {line}: sealing_exclusion {raw!r} is not 0, 1 or 2")
    return int(raw)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    raise SystemExit(main())
