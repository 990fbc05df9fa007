"""The agreement forms: what a browser posts, turned into the services' input models, and every
error (the form's own, pydantic's, the service's) turned into messages keyed by form field.

Dates are whole days in the jurisdiction's zone: a window runs from the start of its first day to
the end of its last day (`expires_at` is the midnight after it, as CONTRACT §6 counts it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, ValidationError

from pars.errors import Conflict, DomainError, FieldError, Invalid
from pars.records.fields import RECORD_FIELDS
from pars.records.schemas import Status
from pars.sharing import words
from pars.sharing.agreements import Policy
from pars.sharing.models import AgreementVersion
from pars.sharing.pages_views import window_of
from pars.sharing.schemas import AgreementIn, SuspensionIn, TerminationIn, TermsIn
from pars.sharing.vocabulary import Channel, Purpose

SUMMARY = ""  # the key of errors that belong to no one field
Errors = dict[str, list[str]]
Parsed = TypeVar("Parsed", bound=BaseModel)


class TermsForm(BaseModel):
    """The propose and amend forms as posted: plain strings, so that nothing is refused before
    the page can say what is wrong and where."""

    agency: str = ""
    title: str = ""
    document_ref: str = ""
    first_day: str = ""
    last_day: str = ""
    purposes: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    fields: list[str] = Field(default_factory=list)
    grades: str = ""
    titles: str = ""
    sections: str = ""
    statuses: list[str] = Field(default_factory=list)
    case_reference: str = ""  # "required" when ticked
    registered_case: str = ""  # "required" when ticked: the reference must be a registered case
    quota: str = ""


class EndForm(BaseModel):
    """Suspension and termination: a reason, and for a termination its last day (empty: now)."""

    reason: str = ""
    last_day: str = ""


@dataclass(frozen=True)
class Choice:
    value: str
    barred: str = ""  # why it may not be chosen ("protected", "prohibited"), shown beside it


@dataclass(frozen=True)
class Vocabulary:
    """What the propose and amend forms offer; protected fields and prohibited purposes are shown,
    unselectable, with the word that says why."""

    purposes: list[Choice]
    fields: list[Choice]
    channels: list[str]
    statuses: list[str]


def vocabulary(policy: Policy) -> Vocabulary:
    return Vocabulary(
        purposes=[Choice(p, "prohibited" if p in policy.prohibited_purposes else "") for p in Purpose],
        fields=[Choice(f, "protected" if f in policy.protected_fields else "") for f in RECORD_FIELDS],
        channels=[str(c) for c in Channel],
        statuses=[str(s) for s in Status],
    )


def blank_form(today: date) -> TermsForm:
    return TermsForm(first_day=today.isoformat(), channels=[Channel.QUERY], case_reference="required")


def form_of(version: AgreementVersion, zone: ZoneInfo) -> TermsForm:
    """A form prefilled from `version`, for an amendment or renewal."""
    window = window_of(version, zone)
    scope = version.scope

    def joined(key: str) -> str:
        value = scope.get(key)
        return "" if value is None else ", ".join(str(x) for x in value)

    return TermsForm(
        title=version.title,
        document_ref=version.document_ref or "",
        first_day=window.first_day.isoformat(),
        last_day=window.last_day.isoformat(),
        purposes=list(version.purposes),
        channels=list(version.channels),
        fields=list(version.fields),
        grades=joined("grades"),
        titles=joined("titles"),
        sections=joined("sections"),
        statuses=list(scope.get("statuses") or []),
        case_reference="required" if version.require_case_reference else "",
        registered_case="required" if version.require_registered_case else "",
        quota="" if version.daily_query_limit is None else str(version.daily_query_limit),
    )


def _day(text: str, name: str, errors: list[FieldError]) -> date | None:
    if not text.strip():
        errors.append(FieldError(name, "enter a date"))
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors.append(FieldError(name, "enter a date as YYYY-MM-DD"))
        return None


def start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _items(text: str) -> list[str] | None:
    parts = [p for p in re.split(r"[,\s]+", text) if p]
    return parts or None


def _titles(text: str, errors: list[FieldError]) -> list[int] | None:
    parts = _items(text)
    if parts is None:
        return None
    if not all(p.isdigit() for p in parts):
        errors.append(FieldError("titles", "list title numbers, e.g. 18, 75"))
        return None
    return [int(p) for p in parts]


def _quota(text: str, errors: list[FieldError]) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit():
        errors.append(FieldError("quota", "enter a whole number, or leave it empty for no limit"))
        return None
    return int(text.strip())


def terms_input(form: TermsForm, zone: ZoneInfo, *, with_agency: bool) -> TermsIn:
    """The service's input (an `AgreementIn` when `with_agency`), or `Invalid` with every problem
    found, named by form field."""
    errors: list[FieldError] = []
    first, last = _day(form.first_day, "first_day", errors), _day(form.last_day, "last_day", errors)
    if first is not None and last is not None and last < first:
        errors.append(FieldError("last_day", "the last day cannot be before the first day"))
        last = None
    body: dict[str, Any] = {
        "title": form.title.strip(),
        "document_ref": form.document_ref.strip() or None,
        "effective_from": None if first is None else start_of(first, zone),
        "expires_at": None if last is None else start_of(last + timedelta(days=1), zone),
        "purposes": form.purposes,
        "channels": form.channels,
        "fields": form.fields,
        "scope": {
            "grades": _items(form.grades),
            "titles": _titles(form.titles, errors),
            "sections": _items(form.sections),
            "statuses": form.statuses or None,
        },
        "require_case_reference": form.case_reference == "required",
        "require_registered_case": form.registered_case == "required",
        "daily_query_limit": _quota(form.quota, errors),
    }
    model: type[TermsIn] = TermsIn
    if with_agency:
        body["agency"] = form.agency.strip()
        model = AgreementIn
        if not body["agency"]:
            errors.append(FieldError("agency", "choose the partner agency"))
    return _parse(model, body, errors)


def _parse(model: type[Parsed], body: dict[str, Any], errors: list[FieldError]) -> Parsed:
    """`model` from `body`, or `Invalid` with the form's own errors and pydantic's (a field the
    form already faulted keeps only the form's message)."""
    try:
        parsed = model.model_validate(body)
    except ValidationError as exc:
        errors = errors + _pydantic_errors(exc, skip={e.field for e in errors})
        raise Invalid(errors) from None
    if errors:
        raise Invalid(errors)
    return parsed


def suspension_input(form: EndForm) -> SuspensionIn:
    return _parse(SuspensionIn, {"reason": form.reason.strip()}, [])


def termination_input(form: EndForm, zone: ZoneInfo, instant: datetime) -> TerminationIn:
    """An empty last day means now; a day means the end of that city day."""
    errors: list[FieldError] = []
    effective_at: datetime | None = instant
    if form.last_day.strip():
        last = _day(form.last_day, "last_day", errors)
        effective_at = None if last is None else start_of(last + timedelta(days=1), zone)
    return _parse(TerminationIn, {"effective_at": effective_at, "reason": form.reason.strip()}, errors)


_FRIENDLY = {
    "missing": "this is required",
    "string_too_long": "too long: at most {max_length} characters",
    "int_parsing": "enter a whole number",
    "int_from_float": "enter a whole number",
    "less_than_equal": "must be at most {le}",
    "datetime_parsing": "enter a date",
    "string_too_short": "this is required",
    "too_short": "choose at least one",
    "greater_than_equal": "must be at least 1",
    "literal_error": "choose one of the options",
    "enum": "choose one of the options",
}


def _pydantic_errors(exc: ValidationError, skip: set[str] | frozenset[str] = frozenset()) -> list[FieldError]:
    """Pydantic's errors by form field; a field with an error of the form's own keeps only that."""
    found = []
    for error in exc.errors():
        name = form_field(".".join(str(part) for part in error["loc"] if not isinstance(part, int)))
        if name in skip:
            continue
        friendly = _FRIENDLY.get(error["type"])
        found.append(FieldError(name, friendly.format(**error.get("ctx", {})) if friendly else said(error["msg"])))
    return found


# The service's names for the terms, as the form names its fields.
_FORM_NAMES = {
    "effective_from": "first_day",
    "expires_at": "last_day",
    "effective_at": "last_day",
    "daily_query_limit": "quota",
    "require_case_reference": "case_reference",
    "require_registered_case": "registered_case",
    "scope.grades": "grades",
    "scope.titles": "titles",
    "scope.sections": "sections",
    "scope.statuses": "statuses",
}


def form_field(name: str) -> str:
    """`fields[2]` → `fields`, `expires_at` → `last_day`."""
    base = re.sub(r"\[\d+\]", "", name)
    return _FORM_NAMES.get(base, base)


_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_CODE = re.compile(r"\b[a-z]+(?:[._][a-z]+)+\b")
_SERVICE_NAMES = {"effective_from": "the first day", "expires_at": "the last day", "effective_at": "the last day"}


def _code_words(code: str) -> str:
    if code in _SERVICE_NAMES:
        return _SERVICE_NAMES[code]
    if code in set(map(str, Purpose)):
        return words.purpose(code)
    if code in RECORD_FIELDS:
        return words.field(code)
    if code in set(map(str, Status)):
        return words.status(code).lower()
    return code.replace("_", " ")


def said(message: str) -> str:
    """A service's message in the page's words: codes (`person.ssn`, `criminal_investigation`,
    `effective_from`) as words, an agreement's id as "another agreement"."""
    message = _UUID.sub("", message).replace("agreement  version", "agreement, version")
    first, _, rest = message.partition(" ")
    if first in RECORD_FIELDS:  # "witnesses is protected": the field's label
        message = f"{words.field(first)} {rest}"
    return _CODE.sub(lambda m: _code_words(m.group(0)), message)


def errors_of(error: DomainError, *, window_conflicts: bool = False) -> Errors:
    """Messages by form field; an overlap (409) belongs to the window when the form has one."""
    errors: Errors = {}
    if isinstance(error, Invalid):
        for item in error.errors:
            errors.setdefault(form_field(item.field), []).append(said(item.message))
    elif window_conflicts and isinstance(error, Conflict) and "overlap" in error.detail:
        errors["window"] = [_overlap(error.detail)]
    else:
        errors[SUMMARY] = [said(error.detail)]
    return errors


def _overlap(detail: str) -> str:
    version = re.search(r"version (\d+)", detail)
    which = f"version {version.group(1)} of another agreement" if version else "another agreement"
    return f"these days overlap {which} with the same agency: choose days outside it"
