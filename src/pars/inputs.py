"""The one check every inbound text passes: no NUL, no other control character, no lone
surrogate (CONTRACT §7).

Such characters are never data in an arrest record or a query, and PostgreSQL refuses NUL
outright (the request used to end in a 500). Every inbound API model inherits `InboundModel`, so
a JSON string that carries one is a 422 naming its field; the shared `/api/v1` dependency applies
`text_problem` to query parameters and the partner headers (400); the web forms reuse it.

Free text, the members that allow more than `FREE_TEXT_LENGTH` characters (a narrative, notes,
a reason), may hold tab and newline (and the carriage return of a CRLF); nothing else may.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, ClassVar, get_args, get_origin

from pydantic import BaseModel, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

FREE_TEXT_LENGTH = 400
# The instants an input may name: wide enough for any record or period, narrow enough that
# converting to UTC, the next midnight or the months between two bounds never leave what a
# datetime can hold (year 9999 at -12:00, or year 1 at +14:00, was a 500).
EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = "must lie between the years 1000 and 9000"
# PARS-Purpose and PARS-Case-Reference (CONTRACT §7).
HEADER_TEXT_LENGTH = 64

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_IN_FREE_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str, *, free_text: bool = False) -> str | None:
    """What is wrong with the text, or None. The message never quotes the value."""
    match = (_CONTROL_IN_FREE_TEXT if free_text else _CONTROL).search(value)
    if match is None:
        return None
    if "\ud800" <= match.group() <= "\udfff":
        return "is not valid Unicode text"
    if free_text:
        return "must not contain control characters (NUL and the like; tab and newline are allowed)"
    return "must not contain control characters (NUL, tab, newline and the like)"


def header_text_problem(value: str) -> str | None:
    """A partner header: at most 64 printable characters."""
    if len(value) > HEADER_TEXT_LENGTH:
        return f"must be at most {HEADER_TEXT_LENGTH} characters"
    if not value.isprintable():
        return "must be printable characters only"
    return None


def _walk(value: Any, free_text: bool) -> str | None:
    if isinstance(value, str):
        return text_problem(value, free_text=free_text)
    if isinstance(value, Mapping):
        for key, item in value.items():
            problem = _walk(key, False) or _walk(item, free_text)
            if problem:
                return problem
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            problem = _walk(item, free_text)
            if problem:
                return problem
    return None


def _max_length(annotation: Any) -> int | None:
    """The largest `max_length` a string annotation allows (through Optional and Annotated)."""
    found: list[int] = []
    if get_origin(annotation) is Annotated:
        args = get_args(annotation)
        found += [m.max_length for m in args[1:] if isinstance(getattr(m, "max_length", None), int)]
        found += [n for n in [_max_length(args[0])] if n is not None]
    else:
        found += [n for n in (_max_length(a) for a in get_args(annotation)) if n is not None]
    return max(found) if found else None


@cache
def _free_text(model: type[BaseModel], field_name: str) -> bool:
    field = model.model_fields.get(field_name)
    if field is None:
        return False
    lengths = [m.max_length for m in field.metadata if isinstance(getattr(m, "max_length", None), int)]
    limit = max(lengths) if lengths else _max_length(field.annotation)
    return limit is not None and limit > FREE_TEXT_LENGTH


class InboundModel(BaseModel):
    """The base of every model the API reads from a client."""

    # Members whose service checks them itself, with another status the contract names (a
    # case reference is a 400, like the header that must match it).
    checked_by_service: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, datetime):
            if value.tzinfo is not None and not EARLIEST <= value <= LATEST:
                raise PydanticCustomError("datetime_range", OUT_OF_RANGE)
            return value
        if (
            value is None
            or isinstance(value, BaseModel | int | float | bool)
            or info.field_name in cls.checked_by_service
        ):
            return value
        problem = _walk(value, _free_text(cls, info.field_name or ""))
        if problem:
            raise PydanticCustomError("control_character", problem)
        return value
