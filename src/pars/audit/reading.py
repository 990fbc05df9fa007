"""Reading stored entries as the very text their canonical encoding is made of.

Verification and export walk the whole trail, so they do not let SQLAlchemy build datetimes,
UUIDs and dicts only to turn them back into text: the database hands over the instant and the
user id already in canonical form, and ``details`` as JSON text. On SQLite that text is stored
in canonical form already (see ``pars.db``), so it is hashed as it is; only when that hash does
not match is it parsed and re-encoded, so a stored text in another JSON layout is never
mistaken for an alteration. PostgreSQL's JSONB has a layout of its own and is always re-encoded.

``stored_batches`` is the one way verification reads a range (here and in ``pars.audit.runs``'s
processes, and the bench's reading-alone ceiling): the statement compiled once, run on the
driver's own cursor (a server-side one on PostgreSQL), its rows fetched in large batches as the
driver's tuples. SQLAlchemy's result layer, even without column types, cost more than the
driver's fetch itself (SQLite: 285k rows/s against 450k, 200k entries).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import ColumnElement, Connection, String, Text, cast, func, select, type_coerce

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


def stored_batches(
    connection: Connection, *, first: int | None = None, last: int | None = None, batch: int = 20_000
) -> Iterator[Sequence[Any]]:
    """The rows of ``stored_columns`` with ``first <= seq <= last`` (either bound may be None), in
    ``seq`` order, ``batch`` at a time, as the driver's tuples (see the module's docstring)."""
    dialect = connection.dialect
    query = select(*stored_columns(dialect.name)).order_by(_c.seq)
    if first is not None:
        query = query.where(_c.seq >= first)
    if last is not None:
        query = query.where(_c.seq <= last)
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    driver: Any = connection.connection.dbapi_connection
    if dialect.name == "postgresql":
        # Named: a server-side cursor, so memory holds one batch, not the trail.
        cursor = driver.cursor(name="pars_audit_read")
        cursor.itersize = batch
    else:
        cursor = driver.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()


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
    if dialect == "sqlite":
        yield from _sqlite_hashes(rows)
        return
    yield from _postgres_hashes(rows)


# Values seen often (agencies, actions, outcomes, users) keep their JSON text; past this many
# the memo starts again, so a trail of all-different values cannot make it grow without end.
_MEMO = 10_000


def _sqlite_hashes(rows: Iterable[Any]) -> Iterator[tuple[int, str, str, str]]:
    """SQLite's stored details are canonical already: the entry's encoding is built here, inline,
    with the JSON text of repeated values remembered (the same bytes as ``encode_entry``, which
    the tests check), and only an entry that does not match goes the long way round."""
    sha256 = hashlib.sha256
    quote = encode_basestring
    quoted: dict[str | None, str] = {None: "null"}
    actors: dict[str | None, str] = {None: "null"}
    for row in rows:
        seq, raw_at, raw_actor, agency, action, outcome, target, details, prev_hash, stored = row
        if len(quoted) > _MEMO or len(actors) > _MEMO:
            quoted, actors = {None: "null"}, {None: "null"}
        actor = actors.get(raw_actor)
        if actor is None:
            actor = actors[raw_actor] = quote(sqlite_text(raw_at, raw_actor)[1] or "")
        action_json = quoted.get(action) or quoted.setdefault(action, quote(action))
        agency_json = quoted.get(agency) or quoted.setdefault(agency, quote(agency))
        outcome_json = quoted.get(outcome) or quoted.setdefault(outcome, quote(outcome))
        encoded = (
            f'{{"action":{action_json},"actor":{actor},"agency":{agency_json},'
            f'"at":"{raw_at[:10]}T{raw_at[11:]}Z","details":{details},"outcome":{outcome_json},'
            f'"prev_hash":{quote(prev_hash)},"seq":{seq},"target":{"null" if target is None else quote(target)}}}'
        ).encode()
        computed = sha256(encoded).hexdigest()
        yield (seq, prev_hash, stored, computed) if computed == stored else _recomputed(row, on_sqlite=True)


def _postgres_hashes(rows: Iterable[Any]) -> Iterator[tuple[int, str, str, str]]:
    """PostgreSQL hands over the instant and the user id canonical already, and ``details`` in
    JSONB's layout, which is parsed and re-encoded: the same bytes as ``_recomputed`` gives (the
    tests check it), built inline, with the JSON text of repeated values remembered."""
    sha256 = hashlib.sha256
    quote = encode_basestring
    loads, dumps = json.loads, details_json
    quoted: dict[str | None, str] = {None: "null"}
    for row in rows:
        seq, at, actor, agency, action, outcome, target, details, prev_hash, stored = row
        if len(quoted) > _MEMO:
            quoted = {None: "null"}
        try:
            value = loads(details)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            yield seq, prev_hash, stored, "not a JSON object"
            continue
        actor_json = quoted.get(actor) or quoted.setdefault(actor, quote(actor))
        action_json = quoted.get(action) or quoted.setdefault(action, quote(action))
        agency_json = quoted.get(agency) or quoted.setdefault(agency, quote(agency))
        outcome_json = quoted.get(outcome) or quoted.setdefault(outcome, quote(outcome))
        encoded = (
            f'{{"action":{action_json},"actor":{actor_json},"agency":{agency_json},'
            f'"at":"{at}","details":{dumps(value)},"outcome":{outcome_json},'
            f'"prev_hash":{quote(prev_hash)},"seq":{seq},"target":{"null" if target is None else quote(target)}}}'
        ).encode()
        yield seq, prev_hash, stored, sha256(encoded).hexdigest()


def _recomputed(row: Any, *, on_sqlite: bool) -> tuple[int, str, str, str]:
    seq, raw_at, raw_actor, agency, action, outcome, target, details, prev_hash, stored = row
    at, actor = sqlite_text(raw_at, raw_actor) if on_sqlite else (raw_at, raw_actor)
    computed = ""
    if on_sqlite:
        computed = sha256_hex(
            encode_entry(
                seq=seq, at=at, actor=actor, agency=agency, action=action, outcome=outcome, target=target,
                details_json=details, prev_hash=prev_hash,
            )
        )  # fmt: skip
    if computed != stored:
        canonical = canonical_details(details)
        if canonical is None:
            computed = "not a JSON object"
        elif canonical != details or not on_sqlite:
            computed = sha256_hex(
                encode_entry(
                    seq=seq, at=at, actor=actor, agency=agency, action=action, outcome=outcome, target=target,
                    details_json=canonical, prev_hash=prev_hash,
                )
            )  # fmt: skip
    return seq, prev_hash, stored, computed


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
