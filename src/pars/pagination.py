"""Opaque keyset cursors: a page is found by the sort key of the last item, never by offset,
so paging stays fast on a large table and stable while rows are added."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from pars.errors import BadRequest, Invalid
from pars.inputs import text_problem

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
FORGED = "cursor is not one this service returned"
_INT64 = (-(2**63), 2**63 - 1)

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """The sort key a cursor carries. A client can forge one, so its shape is checked before any
    query sees it: a non-empty list of texts without control characters and 64-bit integers
    (what `encode_cursor` is given). Anything else is a 400, never a NUL or an integer the
    database cannot hold (a 500 once)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError) as exc:
        raise BadRequest(FORGED) from exc
    if not isinstance(key, list) or not key or not all(_plain(item) for item in key):
        raise BadRequest(FORGED)
    return key


def _plain(item: Any) -> bool:
    if isinstance(item, str):
        return text_problem(item) is None
    return isinstance(item, int) and not isinstance(item, bool) and _INT64[0] <= item <= _INT64[1]


def parse_limit(value: str | int | None) -> int:
    """Defaults to 50; at least 1 and at most 100 (CONTRACT §2), else 422: a client asking for
    more than a page holds must learn it, not receive a shorter page it takes for the end."""
    if value is None:
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError as exc:
        raise Invalid.one("limit", "must be a whole number") from exc
    if limit < 1:
        raise Invalid.one("limit", "must be at least 1")
    if limit > MAX_LIMIT:
        raise Invalid.one("limit", f"must be at most {MAX_LIMIT}")
    return limit


def keyset_page(
    session: Session,
    query: Select[Any],
    *,
    at: InstrumentedAttribute[datetime],
    ident: InstrumentedAttribute[uuid.UUID],
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
) -> Page[Any]:
    """One page of `query` ordered by (at, ident); the cursor is the last row's pair."""
    if cursor is not None:
        key = decode_cursor(cursor)
        try:
            last_at, last_id = datetime.fromisoformat(key[0]), uuid.UUID(key[1])
        except (IndexError, TypeError, ValueError) as exc:
            raise BadRequest(FORGED) from exc
        after: ColumnElement[bool]
        if newest_first:
            after = or_(at < last_at, and_(at == last_at, ident < last_id))
        else:
            after = or_(at > last_at, and_(at == last_at, ident > last_id))
        query = query.where(after)
    order = (at.desc(), ident.desc()) if newest_first else (at, ident)
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    next_cursor = None
    if more and last is not None:
        next_cursor = encode_cursor([getattr(last, at.key).isoformat(), str(getattr(last, ident.key))])
    return Page(rows, next_cursor)
