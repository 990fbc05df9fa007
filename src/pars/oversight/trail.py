"""Reading partner queries off the audit trail for the detectors.

Only ``arrest.read`` and ``arrest.search`` entries are queries (CONTRACT §7: one entry per request,
disclosed or refused). The scanner reads them by ``seq`` ranges with plain Core rows, never the
whole trail at once; the person behind each disclosed record comes from the arrests table
(an audit entry names arrests, not people), looked up in batches and cached for the scan,
with what the rules need to know of that arrest: when it was made (a lookup of someone
arrested in the last hours is the ordinary follow-up of an arrest) and the race and ethnicity
recorded (``demographic_skew``), grouped by the code lists (`pars.oversight.groups`) as every
disparate-impact table groups them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pars.actions import AuditAction, Outcome
from pars.audit.models import AuditEntry
from pars.oversight.groups import NOT_RECORDED, group_of
from pars.oversight.windows import QUARTER
from pars.records.models import Arrest

QUERY_ACTIONS = (str(AuditAction.ARREST_READ), str(AuditAction.ARREST_SEARCH))
_BATCH = 500
# Race or ethnicity not recorded, not in the code lists, or "Unknown": never a group of its own.
UNKNOWN = NOT_RECORDED
# Search parameters that identify a record or person outright (CONTRACT §7); a search without
# one, by name alone or by name and birth date, asks the gate to find a person.
IDENTIFIERS = frozenset({"sid", "ppn", "tracking_number", "incident_number", "docket_number"})


class ArrestFacts(NamedTuple):
    """What the rules know of one disclosed arrest."""

    person: str
    arrested_at: datetime
    race: str  # groups.race_group
    ethnicity: str  # groups.ethnicity_group


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """The gate's ``case`` member of an answered query (CONTRACT §7, registered cases)."""

    registered: bool
    subjects: int
    explained: bool


@dataclass(slots=True)
class Query:
    """One partner (or city) request as the rules see it. ``case`` is "" when none was given."""

    seq: int
    at: datetime
    agency: str
    user: str
    action: str
    ok: bool
    reason: str | None
    purpose: str | None
    case: str
    records: list[str]
    parameters: list[str]
    subject: str | None
    matched: int = 0  # persons matched by a search refused as ambiguous
    case_facts: CaseFacts | None = None  # only on answered queries that named a case
    persons: list[str] = field(default_factory=list)
    # Set by PersonMap.fill: (race, ethnicity) of each of ``persons``; and whether every person
    # disclosed was arrested within PARS_OVERSIGHT_RECENT_ARREST_HOURS before the query.
    demographics: list[tuple[str, str]] = field(default_factory=list)
    recent: bool = False
    quarter: int = 0  # windows.quarter_of(at), computed once for every rule's windows
    _people: list[str] | None = None  # people(), once persons are known

    def __post_init__(self) -> None:
        self.quarter = int(self.at.timestamp() // QUARTER)  # windows.quarter_of, inlined: once per query

    def kind(self) -> tuple[object, ...]:
        """Everything of this query that decides which rules count it (``Rule.counts``), once
        persons are known: queries of one kind count in the same rules."""
        facts = self.case_facts
        return (self.ok, self.reason, self.action, bool(self.case), facts is not None and facts.explained,
                self.recent, bool(self.records), bool(self.persons), bool(self.subject))  # fmt: skip

    @property
    def is_search(self) -> bool:
        return self.action == AuditAction.ARREST_SEARCH

    @property
    def explained(self) -> bool:
        """A lookup whose disclosed person is a subject of the registered case it named."""
        return self.case_facts is not None and self.case_facts.explained

    @property
    def follow_up(self) -> bool:
        """A lookup, under a case reference, of people arrested in the last hours: the ordinary
        follow-up of the city's own arrests. Without a reference it is no follow-up of anything
        (a nightly sweep of the day's arrestees is the pattern the city complained of)."""
        return self.recent and bool(self.case)

    @property
    def discounted(self) -> bool:
        """Lawful context that volume and sweep rules leave out: a lookup explained by its
        registered case, or the follow-up of a recent arrest."""
        return self.explained or self.follow_up

    @property
    def registered(self) -> bool:
        return self.case_facts is not None and self.case_facts.registered

    @property
    def name_only(self) -> bool:
        """A search by name without a birth date or any identifier."""
        names = set(self.parameters)
        return self.is_search and "last_name" in names and "dob" not in names and not names & IDENTIFIERS

    def people(self) -> list[str]:
        """Who this request was about: the people whose records it disclosed; for a search that
        found nothing, its keyed subject (the same name and birth date searched again match);
        without either, only this request itself."""
        if self._people is None:
            # Asked by several rules, after PersonMap.fill has set ``persons``.
            if self.persons:
                self._people = [f"p:{p}" for p in self.persons]
            else:
                self._people = [f"s:{self.subject}"] if self.subject else [f"q:{self.seq}"]
        return self._people


def read_queries(session: Session, *, after: int, upto: int, partners: frozenset[str] | None = None) -> list[Query]:
    """The queries with ``after < seq <= upto``, in trail order. Given ``partners``, only those
    the rules can count: every query of a partner, and others' refused ones (a probe is a probe
    whoever makes it); the city's own answered reads, a large part of the trail, stay in the
    database.

    The rows come from the driver's own cursor (the statement compiled once per batch), not
    through SQLAlchemy's result: the scan reads every query of the trail. On SQLite the instant,
    the user id and the details come as the stored text and are decoded here; PostgreSQL's
    driver hands them over decoded already (the instant is turned to UTC, as the column type
    would)."""
    c = AuditEntry.__table__.c
    query = (
        select(c.seq, c.at, c.agency, c.actor_id, c.action, c.outcome, c.details)
        .where(c.seq > after, c.seq <= upto, c.action.in_(QUERY_ACTIONS), c.agency.is_not(None))
        .order_by(c.seq)
    )
    if partners is not None:
        query = query.where(or_(c.agency.in_(sorted(partners)), c.outcome != str(Outcome.OK)))
    connection = session.connection()
    dialect = connection.dialect
    driver = connection.connection.dbapi_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.execute(str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if dialect.name != "sqlite":
        return [to_query(_in_utc(row)) for row in rows]
    # SQLite keeps UTC as "YYYY-MM-DD HH:MM:SS.ffffff" and a UUID as 32 hex digits. The instant is
    # read with its offset (UTC itself comes back): several times cheaper than
    # ``replace(tzinfo=UTC)``. The details are our own canonical JSON text (``db._json_text``),
    # decoded by the decoder's scanner itself, without ``json.loads``'s checks around it.
    iso, scan = datetime.fromisoformat, _SCAN
    return [
        to_query((seq, iso(at + "+00:00"), agency, _uuid_text(actor), action, outcome, scan(details, 0)[0]))
        for seq, at, agency, actor, action, outcome, details in rows
    ]


# The decoder's scanner: set on each decoder at creation, which typeshed does not declare.
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _uuid_text(actor: str | None) -> str | None:
    if actor is not None and len(actor) == 32:
        return f"{actor[:8]}-{actor[8:12]}-{actor[12:16]}-{actor[16:20]}-{actor[20:]}"
    return actor


def _in_utc(row: Sequence[Any]) -> tuple[Any, ...]:
    seq, at, agency, actor, action, outcome, details = row
    return seq, at.astimezone(UTC), agency, actor, action, outcome, details


def to_query(row: Sequence[Any]) -> Query:
    seq, at, agency, actor, action, outcome, details = row
    get = details.get
    case, facts, matched = get("case_reference"), get("case"), get("persons")
    records, parameters = get("records"), get("parameters")
    # Positional, in the order of Query's fields: the scan makes one per query of the trail.
    return Query(
        seq, at, agency, "" if actor is None else str(actor), action, outcome == _OK, get("reason"),
        get("purpose") or None, case.strip() if isinstance(case, str) else "",
        records if type(records) is list and records else list(records or ()),  # _list, inlined
        parameters if type(parameters) is list and parameters else list(parameters or ()),
        get("subject"), matched if isinstance(matched, int) else 0,
        _case_facts(facts) if isinstance(facts, dict) else None,
    )  # fmt: skip


_OK = str(Outcome.OK)


def _list(value: Any) -> list[Any]:
    """``list(value or ())``, without copying a list just parsed (nothing else holds it)."""
    return value if type(value) is list and value else list(value or ())


def _case_facts(facts: dict[str, Any]) -> CaseFacts:
    subjects = facts.get("subjects")
    return CaseFacts(bool(facts.get("registered")), subjects if isinstance(subjects, int) else 0,
                     bool(facts.get("explained")))  # fmt: skip


class PersonMap:
    """arrest id → the facts of that arrest (``ArrestFacts``), for the records the trail names;
    one query per 500 unknown ids, cached for the whole scan (arrests do not change person)."""

    def __init__(self, recent_hours: float = 48) -> None:
        self._known: dict[str, ArrestFacts] = {}
        self.recent = timedelta(hours=recent_hours)

    def fill(self, session: Session, queries: Iterable[Query]) -> None:
        wanted = {r for q in queries for r in q.records if r not in self._known}
        self.load(session, wanted)
        facts, recent = self._known, self.recent
        for q in queries:
            if not q.records:
                continue
            if len(q.records) == 1:  # most queries: the loop below, for one record
                fact = facts.get(q.records[0])
                if fact is None:
                    q.persons, q.demographics, q.recent = [], [], False
                else:
                    q.persons, q.demographics = [fact.person], [(fact.race, fact.ethnicity)]
                    q.recent = q.at - recent <= fact.arrested_at <= q.at
                continue
            # Of each person, the newest of the arrests disclosed: who they are as last booked.
            newest: dict[str, ArrestFacts] = {}
            for record in q.records:
                fact = self._known.get(record)
                if fact is None:
                    continue
                known = newest.get(fact.person)
                if known is None or fact.arrested_at > known.arrested_at:
                    newest[fact.person] = fact
            q.persons = list(newest)
            q.demographics = [(f.race, f.ethnicity) for f in newest.values()]
            q.recent = bool(newest) and all(q.at - self.recent <= f.arrested_at <= q.at for f in newest.values())

    def load(self, session: Session, arrest_ids: Iterable[str]) -> None:
        wanted = sorted(a for a in arrest_ids if a not in self._known)
        columns = (Arrest.id, Arrest.person_id, Arrest.arrested_at, Arrest.race, Arrest.ethnicity)
        for start in range(0, len(wanted), _BATCH):
            ids = [uuid.UUID(a) for a in wanted[start : start + _BATCH]]
            for arrest_id, person_id, arrested_at, race, ethnicity in session.execute(
                select(*columns).where(Arrest.id.in_(ids))
            ):
                when = arrested_at if arrested_at.tzinfo else arrested_at.replace(tzinfo=UTC)
                self._known[str(arrest_id)] = ArrestFacts(str(person_id), when, *group_of(race, ethnicity))

    def get(self, arrest_id: str) -> str | None:
        fact = self._known.get(arrest_id)
        return None if fact is None else fact.person
