"""Between HTML forms and the records services: form values in, service input models out, and
every error (pydantic's or the service's `Invalid`) back as a message next to its form field.

Form fields have flat names (`last_name`, `charge_statute` repeated once per charge row); the
services name fields by their path in the input model (`person.name.last`, `charges[1].grade`).
`form_field` translates the one into the other, so a page can put a message beside the field
that caused it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from pars.catalog import Offense, StatuteSyntaxError, UnknownStatute, get_catalog, parse_statute
from pars.errors import FieldError
from pars.records.schemas import BailType

Errors = dict[str, str]

# Every grade the catalog knows, most serious first: the choices while no statute is chosen.
ALL_GRADES = (
    *("H1", "H2", "H", "F1", "F2", "F3", "F", "M1", "M2", "M3", "M"),
    *(f"S{degree}" for degree in range(1, 9)),
    *("S", "IC"),
)
BAIL_TYPES = [str(b) for b in BailType]
DECISIONS = (
    ("approved", "Approve as booked"),
    ("modified", "Modify (file the charges below)"),
    ("declined", "Decline"),
)

# Model path prefix → form field prefix; the longest prefix is tried first.
_PREFIXES = (
    ("person.name.", ""),
    ("person.address.", ""),
    ("person.identifiers.", ""),
    ("person.aliases", "aliases"),
    ("person.", ""),
    ("arrest.", ""),
)
_NAME_PARTS = {"first": "first_name", "middle": "middle_name", "last": "last_name"}
_CHARGE = re.compile(r"^charges\[(\d+)\](?:\.(\w+))?")


@dataclass
class ChargeRow:
    """One charge row of a form, with what the catalog says about its statute."""

    statute: str = ""
    grade: str = ""
    counts: str = "1"
    offense: Offense | None = None
    matches: list[Offense] = field(default_factory=list)
    looked_up: bool = False

    @property
    def blank(self) -> bool:
        return not self.statute.strip() and not self.grade.strip()

    @property
    def grades(self) -> Sequence[str]:
        return self.offense.ordered_grades if self.offense is not None else ALL_GRADES


def offense_for(text: str) -> Offense | None:
    """The catalog's offense for a statute as typed, or None when it is not one (yet)."""
    try:
        return get_catalog().lookup(parse_statute(text))
    except (StatuteSyntaxError, UnknownStatute):
        return None


def charge_rows(
    statutes: Sequence[str], grades: Sequence[str], counts: Sequence[str], *, minimum: int = 1
) -> list[ChargeRow]:
    rows = []
    for index in range(max(len(statutes), len(grades), len(counts), minimum)):
        statute = statutes[index].strip() if index < len(statutes) else ""
        row = ChargeRow(
            statute=statute,
            grade=grades[index].strip() if index < len(grades) else "",
            counts=(counts[index].strip() if index < len(counts) else "") or "1",
            offense=offense_for(statute) if statute else None,
        )
        rows.append(row)
    return rows


def charges_payload(rows: Sequence[ChargeRow]) -> tuple[list[dict[str, Any]], list[int], Errors]:
    """The non-blank rows as service input, which form row each came from, and the errors found
    before any model sees them (a count that is not a number)."""
    payload: list[dict[str, Any]] = []
    origin: list[int] = []
    errors: Errors = {}
    for index, row in enumerate(rows):
        if row.blank:
            continue
        try:
            counts = int(row.counts)
        except ValueError:
            errors[f"charge_counts-{index}"] = "must be a whole number"
            counts = 1
        payload.append({"statute": row.statute or None, "grade": row.grade, "counts": counts})
        origin.append(index)
    return payload, origin, errors


def form_field(path: str, origin: Sequence[int] = ()) -> str:
    """The form field (its id) for a service field path; charge rows by their form row."""
    charge = _CHARGE.match(path)
    if charge is not None:
        index = int(charge.group(1))
        row = origin[index] if index < len(origin) else index
        member = charge.group(2) or "statute"
        if member in ("title", "section", "subsection"):
            member = "statute"
        return f"charge_{member}-{row}"
    if path == "charges":
        return "charge_statute-0"
    for prefix, replacement in _PREFIXES:
        if path.startswith(prefix):
            rest = path[len(prefix) :]
            if prefix == "person.name.":
                return _NAME_PARTS.get(rest, rest)
            if prefix == "person.aliases":
                return replacement
            return replacement + rest.split(".")[0]
    return path


def _path(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind == "missing" or error.get("input") is None:
        return "is required"
    if kind.startswith(("date_", "datetime_")):
        return "must be a date (YYYY-MM-DD)" if kind.startswith("date_") else "must be a date and time"
    if kind == "too_short":
        return "give at least one"
    if kind == "string_too_short":
        return "is required"
    if kind == "string_pattern_mismatch":
        return "is not in the expected form"
    message = str(error.get("msg", "is not valid"))
    return message.removeprefix("Value error, ")


def validation_errors(error: ValidationError, origin: Sequence[int] = ()) -> Errors:
    errors: Errors = {}
    for item in error.errors():
        errors.setdefault(form_field(_path(item["loc"]), origin), _message(item))
    return errors


def field_errors(errors: Sequence[FieldError], origin: Sequence[int] = ()) -> Errors:
    found: Errors = {}
    for item in errors:
        found.setdefault(form_field(item.field, origin), item.message)
    return found


def optional(value: str) -> str | None:
    """Blank form fields are absent, not empty strings (the models refuse an empty name)."""
    value = value.strip()
    return value or None


def local_instant(value: str, zone: ZoneInfo) -> datetime | str | None:
    """A `datetime-local` value read as the jurisdiction's clock; text that is not one is
    handed on unchanged so that the model reports it."""
    value = value.strip()
    if not value:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return value
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=zone)


def local_input(instant: datetime, zone: ZoneInfo) -> str:
    """An instant as a `datetime-local` input value on the jurisdiction's clock."""
    return instant.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def aliases_payload(text: str) -> list[dict[str, Any]]:
    """One alias a line, `Last, First Middle`."""
    aliases = []
    for line in text.splitlines():
        if not line.strip():
            continue
        last, _, rest = line.partition(",")
        first, _, middle = rest.strip().partition(" ")
        aliases.append({"last": last.strip(), "first": optional(first), "middle": optional(middle)})
    return aliases
