"""Opaque keyset cursors: a page is found by the sort key of the last item, never by offset,
so paging stays fast on a large table and stable while rows are added."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pars.errors import BadRequest, Invalid

DEFAULT_LIMIT = 50
MAX_LIMIT = 100

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("cursor is not one this service returned") from exc
    if not isinstance(key, list):
        raise BadRequest("cursor is not one this service returned")
    return key


def parse_limit(value: str | int | None) -> int:
    """Defaults to 50; values above 100 are served as 100 (CONTRACT §2)."""
    if value is None:
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError as exc:
        raise Invalid.one("limit", "must be a whole number") from exc
    if limit < 1:
        raise Invalid.one("limit", "must be at least 1")
    return min(limit, MAX_LIMIT)
