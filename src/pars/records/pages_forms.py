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

from pars.catalog import GradeNotRecorded, Offense, StatuteSyntaxError, UnknownStatute, get_catalog, parse_statute
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
BAIL_WORDS = {
    "ROR": "released on own recognizance (ROR)",
    "unsecured": "unsecured",
    "monetary": "monetary",
    "nonmonetary": "non-monetary conditions",
    "denied": "denied",
}
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
        """The usual grade first (the one courts recorded most often for this offense)."""
        return self.offense.usual_grades if self.offense is not None else ALL_GRADES

    @property
    def grade_choices(self) -> list[tuple[str, str]]:
        """(grade, words shown) for the grade select: rare grades are marked."""
        offense = self.offense
        if offense is None:
            return [(grade, grade) for grade in ALL_GRADES]
        return [
            (grade, f"{grade} (rare for this offense)" if offense.rare_grade(grade) else grade)
            for grade in offense.usual_grades
        ]


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
            errors[f"charge_counts-{index}"] = "Enter the number of counts as a whole number, like 1 or 2"
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


# What a field is called in a message ("Enter the …"); fields one chooses are in CHOSEN.
FIELD_NOUNS = {
    "last_name": "last name", "first_name": "first name", "middle_name": "middle name", "dob": "date of birth",
    "arrested_at": "date and time of the arrest", "held_at": "date and time of the arraignment",
    "next_hearing_at": "date and time of the next hearing", "released_at": "date and time of the release",
    "bail_type": "bail type", "bail_amount": "bail amount", "facility": "facility", "reason": "reason for the release",
    "order_ref": "court order reference", "decision": "charging decision", "charge_statute": "statute",
    "charge_grade": "grade", "charge_counts": "number of counts", "notes": "notes", "conditions": "conditions",
    "narrative": "narrative", "sid": "SID", "fbi_number": "FBI number", "zip": "ZIP code", "ssn": "SSN",
}  # fmt: skip
MAX_COUNTS = 999
CHOSEN = frozenset({"decision", "bail_type", "facility", "reason", "charge_grade", "sex", "race", "ethnicity"})
STATUS_WORDS = {
    "booked": "waiting for a charging decision",
    "charges_approved": "charged and waiting for arraignment",
    "charges_declined": "declined by the prosecutor and waiting for release",
    "arraigned": "arraigned and waiting for commitment or release",
    "committed": "committed to a facility",
    "released": "released",
}
AFTER_ARREST = {
    "held_at": "The arraignment must be after the arrest",
    "released_at": "The release must be after the arrest",
}
_GRADE_NOT_RECORDED = re.compile(r"^grade (\S+) is not recorded for (.+?) \((.+)\); recorded grades: (.+)$")
_NOT_IN_CATALOG = re.compile(r"^(.+) is not in the catalog: no charges are recorded under \1$")
_NOT_APPLY = re.compile(r"^does not apply to (\w+) bail$")


def _kind(field_id: str) -> str:
    """`charge_grade-2` → `charge_grade`."""
    return field_id.split("-", maxsplit=1)[0]


def _noun(field_id: str) -> str:
    kind = _kind(field_id)
    return FIELD_NOUNS.get(kind, kind.replace("_", " "))


def _required(field_id: str) -> str:
    verb = "Choose" if _kind(field_id) in CHOSEN else "Enter"
    article = "a" if _kind(field_id) in ("decision", "charge_grade") else "the"
    return f"{verb} {article} {_noun(field_id)}"


def _or_list(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def plain(field_id: str, message: str) -> str:  # noqa: PLR0911 - one message a case
    """A service's message about a field in words for the person at the form."""
    kind = _kind(field_id)
    text = message.strip().removeprefix("Value error, ")
    if text == "is required":
        return _required(field_id)
    if text == "is before held_at":
        return "The next hearing must be after the arraignment"
    if text == "is before the arrest":
        return AFTER_ARREST.get(kind, "This must be after the arrest")
    if text == "is after the arrest" and kind == "dob":
        return "Date of birth must be before the arrest"
    if text == "is before 1900-01-01":
        return "Date of birth must be in 1900 or later"
    if text in ("is in the future", "is more than 5 minutes in the future"):
        return f"The {_noun(field_id)} cannot be in the future"
    if text == "is required for monetary bail":
        return "Enter the bail amount for monetary bail"
    if text == "must not be negative":
        return "The bail amount cannot be negative"
    if (match := _NOT_APPLY.match(text)) is not None:
        return f"Leave the bail amount empty for {BAIL_WORDS.get(match.group(1), match.group(1))} bail"
    if text == "a modified decision lists the charges as filed":
        return "List the charges as filed, or choose another decision"
    if text == "charges are given only with a modified decision":
        return "Charges are listed only when you modify them"
    if text == "must be a whole number":
        return "Enter the number of counts as a whole number, like 1 or 2"
    if (match := _GRADE_NOT_RECORDED.match(text)) is not None:
        grade, statute, description, recorded = match.groups()
        return (
            f"Courts have not recorded grade {grade} for {statute} ({description}): "
            f"choose {_or_list(recorded.split(', '))}"
        )
    if (match := _NOT_IN_CATALOG.match(text)) is not None:
        return f"{match.group(1)} is not a statute courts have recorded: check the number, or type words of its name"
    if "sid, ppn, tracking_number" in text:
        return (
            "Search by a last name with a date of birth or first name, or by an SID, PPN, tracking number, "
            "DC number or docket number"
        )
    if text.startswith("must be a date YYYY-MM-DD"):
        return "Enter a date, like 1990-05-04"
    if text.startswith("is not a tracking number"):
        return "Enter a tracking number like N 917652-1 (check its last digit)"
    if text.startswith("must be one of "):
        return "Choose one of the options"
    return text[:1].upper() + text[1:]


def _message(error: Mapping[str, Any], field_id: str = "") -> str:  # noqa: PLR0911
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    field = _kind(field_id)
    if kind == "missing" or error.get("input") is None or kind == "string_too_short":
        return _required(field_id)
    if kind == "string_too_long":
        return f"Enter {context.get('max_length', 'fewer')} characters or fewer"
    if kind.startswith("decimal_") or kind.startswith("float_"):
        if kind == "decimal_max_places":
            return "Enter the amount to the cent at most, like 5,000.50"
        if field == "bail_amount":
            return "Enter the bail amount as a number, like 5000 or 5,000.50"
        return "Enter a number, like 5000 or 5,000.50"
    if kind.startswith("int_"):
        return (
            "Enter the number of counts as a whole number, like 1 or 2"
            if field == "charge_counts"
            else ("Enter a whole number")
        )
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return "Enter a number of counts from 1 to 999" if field == "charge_counts" else "Enter a number in range"
    if kind.startswith("date_") or kind == "date_type":
        return "Enter a date, like 1990-05-04"
    if kind.startswith(("datetime_", "timezone_")):
        return f"Enter the {_noun(field_id)}" if field in FIELD_NOUNS else "Enter a date and time"
    if kind in ("enum", "literal_error"):
        return _required(field_id) if field in CHOSEN else "Choose one of the options"
    if kind == "too_short":
        return "List at least one charge" if field.startswith("charge") else "Give at least one"
    if kind == "too_long":
        return f"Give {context.get('max_length', 'fewer')} or fewer"
    if kind == "string_pattern_mismatch":
        return f"Enter the {_noun(field_id)} in the usual form"
    return plain(field_id, str(error.get("msg", "This is not valid")))


def validation_errors(error: ValidationError, origin: Sequence[int] = ()) -> Errors:
    errors: Errors = {}
    for item in error.errors():
        field_id = form_field(_path(item["loc"]), origin)
        errors.setdefault(field_id, _message(item, field_id))
    return errors


def field_errors(errors: Sequence[FieldError], origin: Sequence[int] = ()) -> Errors:
    found: Errors = {}
    for item in errors:
        field_id = form_field(item.field, origin)
        found.setdefault(field_id, plain(field_id, item.message))
    return found


def row_errors(rows: Sequence[ChargeRow]) -> Errors:
    """What the catalog says about each non-blank charge row, every row and field at once (a bad
    statute on one row never hides a missing grade on it or on another)."""
    errors: Errors = {}
    catalog = get_catalog()
    for index, row in enumerate(rows):
        if row.blank:
            continue
        statute_id, grade_id = f"charge_statute-{index}", f"charge_grade-{index}"
        offense = None
        if not row.statute.strip():
            errors[statute_id] = _required(statute_id)
        else:
            try:
                offense = catalog.lookup(parse_statute(row.statute))
            except (StatuteSyntaxError, UnknownStatute) as exc:
                errors[statute_id] = plain(statute_id, str(exc))
        if not row.grade.strip():
            errors[grade_id] = _required(grade_id)
        elif offense is not None:
            try:
                catalog.validate(offense.statute, row.grade)
            except GradeNotRecorded as exc:
                errors[grade_id] = plain(grade_id, str(exc))
        try:
            counts = int(row.counts)
        except ValueError:
            counts = 0
        if not 1 <= counts <= MAX_COUNTS:
            errors[f"charge_counts-{index}"] = "Enter the number of counts as a whole number from 1 to 999"
    return errors


def in_page_order(errors: Errors, fields: Sequence[str]) -> Errors:
    """The errors in the order their fields appear on the page: `fields` names them in that order,
    `charge_*` standing for every charge row (row by row, statute, grade, counts); a form-wide
    message first."""
    rank: dict[str, tuple[int, int, int]] = {}
    members = ("charge_statute", "charge_grade", "charge_counts")

    def key(field_id: str) -> tuple[int, int, int]:
        if field_id == "form":
            return (-1, 0, 0)
        kind, _, row = field_id.partition("-")
        if kind in members:
            place = fields.index("charge_*") if "charge_*" in fields else len(fields)
            return (place, int(row) if row.isdigit() else 0, members.index(kind))
        return rank.setdefault(field_id, (fields.index(kind) if kind in fields else len(fields) + 1, 0, 0))

    return dict(sorted(errors.items(), key=lambda item: key(item[0])))


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
