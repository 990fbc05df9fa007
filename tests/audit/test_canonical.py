"""The canonical encoding (docs/audit.md): the fast builder writes exactly the documented JSON."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pars.actions import AuditAction
from pars.audit.canonical import _number, canonical_json, entry_bytes, entry_hash, instant_text, plain_details
from pars.audit.reading import _recomputed, with_computed_hashes

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
texts = st.text(alphabet=st.characters(codec="utf-8"))  # any character UTF-8 can carry (no lone surrogate)


@given(
    seq=st.integers(min_value=0, max_value=2**62),
    action=texts,
    agency=st.none() | texts,
    target=st.none() | texts,
    actor=st.none() | st.uuids(),
    details=st.dictionaries(texts, json_values, max_size=5),
)
def test_the_fast_encoding_is_the_documented_json(
    seq: int, action: str, agency: str | None, target: str | None, actor: uuid.UUID | None, details: dict[str, Any]
) -> None:
    details = plain_details(details)
    fields: dict[str, Any] = {
        "seq": seq, "at": "2026-03-17T19:00:00.000000Z", "actor": None if actor is None else str(actor),
        "agency": agency, "action": action, "outcome": "ok", "target": target, "details": details, "prev_hash": "0" * 64,
    }  # fmt: skip
    documented = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert entry_bytes(**{**fields, "actor": actor}) == documented == canonical_json(fields)
    assert entry_hash(**{**fields, "actor": actor}) == hashlib.sha256(documented).hexdigest()


def test_instants_are_utc_with_microseconds() -> None:
    eastern = timezone(timedelta(hours=-4))
    assert instant_text(datetime(2026, 3, 17, 15, 0, tzinfo=eastern)) == "2026-03-17T19:00:00.000000Z"
    assert instant_text(datetime(2026, 3, 17, 19, 0, 0, 5, tzinfo=UTC)) == "2026-03-17T19:00:00.000005Z"
    with pytest.raises(ValueError, match="offset"):
        instant_text(datetime(2026, 3, 17, 19, 0))  # noqa: DTZ001 - the point of the test


def test_details_are_what_either_database_gives_back() -> None:
    stored: dict[Any, Any] = {"n": 1e20, "x": 2.0, "y": 0.1, "t": ("a",), 3: None}
    assert plain_details(stored) == {
        "n": 100000000000000000000, "x": 2, "y": 0.1, "t": ["a"], "3": None,
    }  # fmt: skip
    assert plain_details(None) == {}
    with pytest.raises(ValueError, match=r"NaN|JSON"):
        plain_details({"bad": float("nan")})


_texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=8)


@given(
    details=st.dictionaries(st.text(max_size=8), json_values, max_size=4).map(json.dumps)
    | st.sampled_from(["[]", "1", "not json", '{"a": 1, "b": [1, 2]}', "{}"]),
    actor=st.none() | st.uuids().map(str),
    agency=st.none() | _texts,
    target=st.none() | _texts,
    prev_hash=_texts,
)
def test_the_inline_postgresql_hashing_is_the_long_way_round(
    details: str, actor: str | None, agency: str | None, target: str | None, prev_hash: str
) -> None:
    """Verification's inline loop over PostgreSQL rows gives the hash ``_recomputed`` gives for
    every row (details in any layout, or not a JSON object at all)."""
    row = (7, "2026-03-17T19:00:00.000001Z", actor, agency, "arrest.read", "ok", target, details, prev_hash, "h")
    (fast,) = with_computed_hashes([row], dialect="postgresql")
    assert fast == _recomputed(row, on_sqlite=False)


@given(
    details=st.dictionaries(st.text(max_size=8), json_values, max_size=4).map(
        lambda d: json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    )
    | st.dictionaries(st.text(max_size=8), json_values, max_size=4).map(json.dumps)
    | st.sampled_from(["[]", "not json", "{}"]),
    actor=st.none() | st.uuids().map(lambda u: u.hex),
    agency=st.none() | _texts,
    target=st.none() | _texts,
    prev_hash=_texts,
)
def test_the_inline_sqlite_hashing_is_the_long_way_round(
    details: str, actor: str | None, agency: str | None, target: str | None, prev_hash: str
) -> None:
    """The same for SQLite's rows (its stored text: canonical, or in another layout), whose
    inline loop hashes the stored details as they are and goes the long way round only when
    that does not match."""
    row = (7, "2026-03-17 19:00:00.000001", actor, agency, "arrest.read", "ok", target, details, prev_hash, "h")
    correct = _recomputed(row, on_sqlite=True)[3]
    for stored in ("h", correct):  # a hash that does not match, and the one that does
        stored_row = (*row[:9], stored)
        (fast,) = with_computed_hashes([stored_row], dialect="sqlite")
        assert fast == _recomputed(stored_row, on_sqlite=True) == (7, prev_hash, stored, correct)


any_details = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.sampled_from(list(AuditAction)),
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=8) | st.integers() | st.booleans() | st.none(), children, max_size=4)
    ),
    max_leaves=14,
)


@given(details=st.dictionaries(st.text(alphabet=st.characters(codec="utf-8")), any_details, max_size=5))
def test_plain_details_is_the_json_round_trip(details: dict[str, Any]) -> None:
    """The copy of plain details gives what the round trip gives (types included: True is not 1,
    1.0 becomes 1), and refuses what it refuses, NUL and non-ASCII text included."""
    try:
        expected: Any = json.loads(json.dumps(details, ensure_ascii=False, allow_nan=False), parse_float=_number)
    except ValueError as error:
        with pytest.raises(type(error)):
            plain_details(details)
        return
    copy = plain_details(details)
    assert repr(copy) == repr(expected or {})
    assert copy is not details


def test_plain_details_copies_nested_members() -> None:
    details: dict[str, Any] = {"a": ["x\x00", {"ü": (1, True, None)}]}
    copy = plain_details(details)
    assert copy == {"a": ["x\x00", {"ü": [1, True, None]}]}
    details["a"][1]["ü"] = ()
    assert copy["a"][1]["ü"] == [1, True, None]
