"""Reading stored entries as the very text their canonical encoding is made of.

Verification and export walk the whole trail, so they do not let SQLAlchemy build datetimes,
UUIDs and dicts only to turn them back into text: the database hands over the instant and the
user id already in canonical form, and ``details`` as JSON text. On SQLite that text is stored
in canonical form already (see ``pars.db``), so it is hashed as it is; only when that hash does
not match is it parsed and re-encoded, so a stored text in another JSON layout is never
mistaken for an alteration. PostgreSQL's JSONB has a layout of its own and is always re-encoded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, String, Text, cast, func, type_coerce

from pars.audit.canonical import details_json, encode_entry
from pars.audit.models import AuditEntry

# Core columns: rows come back as plain tuples, without the ORM's per-row work.
_c = AuditEntry.__table__.c


def stored_columns(dialect: str) -> list[ColumnElement[Any]]:
    """seq, at, actor, agency, action, outcome, target, details (JSON text), prev_hash, hash;
    ``at`` and ``actor`` as ``sqlite_text`` or, on PostgreSQL, canonical already."""
    if dialect == "postgresql":
        at: ColumnElement[Any] = func.to_char(func.timezone("UTC", _c.at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        actor: ColumnElement[Any] = cast(_c.actor_id, Text)
        details: ColumnElement[Any] = cast(_c.details, Text)
    else:
        at, actor, details = type_coerce(_c.at, String), type_coerce(_c.actor_id, String), type_coerce(_c.details, Text)
    return [_c.seq, at, actor, _c.agency, _c.action, _c.outcome, _c.target, details, _c.prev_hash, _c.hash]


def sqlite_text(at: str, actor: str | None) -> tuple[str, str | None]:
    """SQLite keeps ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC) and 32 hex digits; rearranged here,
    which is several times cheaper than in SQL. Any other text in those columns was not written
    by PARS and will not hash to the stored value."""
    if actor is not None:
        actor = f"{actor[:8]}-{actor[8:12]}-{actor[12:16]}-{actor[16:20]}-{actor[20:]}"
    return f"{at[:10]}T{at[11:]}Z", actor


def canonical_details(text: str) -> str | None:
    """The canonical JSON of a stored details text; None when it is not a JSON object."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return details_json(value) if isinstance(value, dict) else None


def with_computed_hashes(rows: Iterable[Any], *, dialect: str) -> Iterator[tuple[int, str, str, str]]:
    """(seq, prev_hash, stored hash, recomputed hash) for each row of ``stored_columns``."""
    sha256 = hashlib.sha256
    on_sqlite = dialect == "sqlite"
    for seq, raw_at, raw_actor, agency, action, outcome, target, details, prev_hash, stored in rows:
        at, actor = sqlite_text(raw_at, raw_actor) if on_sqlite else (raw_at, raw_actor)
        computed = ""
        if on_sqlite:
            computed = sha256(
                encode_entry(
                    seq=seq, at=at, actor=actor, agency=agency, action=action, outcome=outcome, target=target,
                    details_json=details, prev_hash=prev_hash,
                )
            ).hexdigest()  # fmt: skip
        if computed != stored:
            canonical = canonical_details(details)
            if canonical is None:
                computed = "not a JSON object"
            elif canonical != details or not on_sqlite:
                computed = sha256(
                    encode_entry(
                        seq=seq, at=at, actor=actor, agency=agency, action=action, outcome=outcome, target=target,
                        details_json=canonical, prev_hash=prev_hash,
                    )
                ).hexdigest()  # fmt: skip
        yield seq, prev_hash, stored, computed
