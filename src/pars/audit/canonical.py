"""The canonical encoding of an entry and of a checkpoint (version ``pars-audit-v1``).

This is the contract with outside auditors (docs/audit.md repeats it with a verification
snippet), so it never changes in place: a different encoding would be a new version name.

An entry is hashed as UTF-8 JSON with keys sorted, no white space, non-ASCII characters
written as themselves, over exactly these members:

    action, actor, agency, at, details, outcome, prev_hash, seq, target

``actor`` is the user id as a lower-case hyphenated UUID string or null; ``at`` is the UTC
instant as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``; ``details`` is the JSON object as stored;
``prev_hash`` is the previous entry's hash (64 zeros before the first entry); ``seq`` an
integer. ``hash`` = lower-case hex SHA-256 of those bytes.

A checkpoint signs (Ed25519) the same kind of JSON over ``at``, ``head``, ``size`` and
``type`` = ``"pars.audit.checkpoint.v1"``.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

ENCODING = "pars-audit-v1"
GENESIS = "0" * 64
CHECKPOINT_TYPE = "pars.audit.checkpoint.v1"

# The JSON string quoting json.dumps(..., ensure_ascii=False) uses (its C version when present).
_quote = encode_basestring
_dumps_obj = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode


def canonical_json(value: Any) -> bytes:
    return _dumps_obj(value).encode()


def canonical_text(value: Any) -> str:
    """The canonical JSON as text: what SQLite stores for a JSON column (``pars.db``)."""
    return _dumps_obj(value)


def instant_text(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("audit instants carry an offset")
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _number(text: str) -> int | float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("audit details cannot hold NaN or infinity")
    return int(value) if value.is_integer() else value


def plain_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """A private, JSON-plain copy of ``details``: what is hashed is exactly what either database
    gives back. The round trip turns tuples into lists and keys into strings, and reads a float
    with no fraction as an integer, because PostgreSQL's JSONB would print ``1e20`` back as
    ``100000000000000000000`` and the hash would no longer match.

    Details are nearly always strings, integers, booleans and None in dicts with string keys and
    in lists: those are copied as they are, which is what the round trip gives back, at a
    fraction of its cost (every entry pays it). Anything else (a float, a key that is not a
    string, a subclass such as an enum) takes the round trip."""
    if not details:
        return {}
    try:
        plain = _plain_copy(details)
    except (_NotPlain, RecursionError):
        plain = _round_trip(details)
    assert isinstance(plain, dict)
    return plain


class _NotPlain(Exception):
    pass


# Python refuses to print an integer of more than 4300 digits (sys.set_int_max_str_digits):
# the round trip's error, not a copy that would fail later at commit.
_INT_BOUND = 10**4000


def _plain_copy(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if -_INT_BOUND < value < _INT_BOUND:
            return value
        raise _NotPlain
    if kind is dict:
        copy = {}
        for key, member in value.items():
            if type(key) is not str:
                raise _NotPlain
            copy[key] = _plain_copy(member)
        return copy
    if kind is list or kind is tuple:
        return [_plain_copy(member) for member in value]
    raise _NotPlain


def _round_trip(details: dict[str, Any]) -> Any:
    # Not sorted here: keys of mixed types sort only once they are all strings.
    return json.loads(json.dumps(details, ensure_ascii=False, allow_nan=False), parse_float=_number)


def entry_bytes(
    *,
    seq: int,
    at: str,
    actor: uuid.UUID | str | None,
    agency: str | None,
    action: str,
    outcome: str,
    target: str | None,
    details: dict[str, Any],
    prev_hash: str,
) -> bytes:
    return encode_entry(
        seq=seq,
        at=at,
        actor=None if actor is None else str(actor),
        agency=agency,
        action=action,
        outcome=outcome,
        target=target,
        details_json=_dumps_obj(details),
        prev_hash=prev_hash,
    )


def encode_entry(
    *,
    seq: int,
    at: str,
    actor: str | None,
    agency: str | None,
    action: str,
    outcome: str,
    target: str | None,
    details_json: str,
    prev_hash: str,
) -> bytes:
    """The canonical bytes, built member by member in sorted order from ``details`` already in
    canonical JSON. It is the same text as ``canonical_json`` of the whole entry (the tests check
    it) at a fraction of the cost, which matters when verification walks millions of entries."""
    quote = _quote
    return (
        f'{{"action":{quote(action)},"actor":{"null" if actor is None else quote(actor)},'
        f'"agency":{"null" if agency is None else quote(agency)},"at":"{at}","details":{details_json},'
        f'"outcome":{quote(outcome)},"prev_hash":{quote(prev_hash)},"seq":{seq},'
        f'"target":{"null" if target is None else quote(target)}}}'
    ).encode()


def details_json(details: dict[str, Any]) -> str:
    return _dumps_obj(details)


def entry_hash(
    *,
    seq: int,
    at: str,
    actor: uuid.UUID | str | None,
    agency: str | None,
    action: str,
    outcome: str,
    target: str | None,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    data = entry_bytes(
        seq=seq,
        at=at,
        actor=actor,
        agency=agency,
        action=action,
        outcome=outcome,
        target=target,
        details=details,
        prev_hash=prev_hash,
    )
    return hashlib.sha256(data).hexdigest()


def checkpoint_message(*, size: int, head: str, at: datetime) -> bytes:
    return canonical_json({"at": instant_text(at), "head": head, "size": size, "type": CHECKPOINT_TYPE})
