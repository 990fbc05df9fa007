"""The one gate every partner-bound record passes through (DESIGN principle 1, CONTRACT §7).

At the instant of the request it finds the agreement version in force, checks channel, purpose,
case reference and quota, filters scope in SQL, projects each record to the granted fields, and
writes the disclosure (or the refusal) to the audit trail in the request's transaction. No other
code serialises a record for a partner.

Order matters: the grant is found before any record is fetched, and a record outside scope is
indistinguishable from a missing one (404), so a refusal never reveals that a record exists.

The feed passes through here too (CONTRACT §9): ``feed_audience`` says, when an event is fanned
out, which partners it is due to; ``deliver`` decides and projects each stream event at the
instant it is sent or read, under the agreement in force then.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, bindparam, distinct, func, select
from sqlalchemy.orm import Session

from pars.actors import PartnerActor
from pars.audit import AuditAction, Outcome, record_disclosure, record_event
from pars.audit.models import AuditEntry
from pars.auth.models import Agency
from pars.clock import now
from pars.errors import DomainError, Forbidden, NotFound, Refusal, TooManyRequests
from pars.pagination import Page
from pars.records.models import Arrest
from pars.records.names import name_key
from pars.records.numbers import compact_tracking_number, display_tracking_number
from pars.records.search import SEARCH_PARAMETERS, SearchQuery, page_arrests, where_filters
from pars.records.serialize import arrest_record, iso
from pars.sharing import cases
from pars.sharing.cases import CaseStanding
from pars.sharing.grants import PLANS, Grant, grant_in_force
from pars.sharing.keyed import Domain, hasher
from pars.sharing.models import Agreement, DetainerRequest
from pars.sharing.vocabulary import Channel, Refused

# A partner search must name a person or a case, never sweep (CONTRACT §7).
IDENTIFYING_PARAMETERS = frozenset({"sid", "ppn", "tracking_number", "incident_number", "docket_number"})
QUERY_ACTIONS = (AuditAction.ARREST_READ, AuditAction.ARREST_SEARCH)


@dataclass(frozen=True)
class PartnerRequest:
    """What a partner states with its request (headers PARS-Purpose, PARS-Case-Reference)."""

    purpose: str | None
    case_reference: str | None
    channel: Channel = Channel.QUERY


@dataclass(frozen=True)
class _Attempt:
    """One partner request on its way through the gate, for naming it in refusals. ``details``
    go into every refusal of it too (a search's parameter names and subject)."""

    action: AuditAction
    request: PartnerRequest
    target: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def refusal(self, reason: Refused, grant: Grant | None = None, **extra: Any) -> Refusal:
        """The audit entry of a refusal: why, under which agreement, what the partner stated."""
        details: dict[str, Any] = {"reason": str(reason)}
        if grant is not None:
            details |= {"agreement_id": str(grant.agreement_id), "agreement_version": grant.version}
        request = self.request
        details |= {
            "purpose": request.purpose,
            "case_reference": request.case_reference,
            "channel": str(request.channel),
        }
        return Refusal(self.action, self.target, details | dict(self.details) | extra)

    def forbidden(
        self,
        reason: Refused,
        message: str,
        grant: Grant | None = None,
        *,
        members: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> Forbidden:
        """``members`` go into the problem body, for the partner to act on (public values only)."""
        return Forbidden(message, refusal=self.refusal(reason, grant, **extra), members=members)


def authorise(session: Session, actor: PartnerActor, attempt: _Attempt, *, zone: ZoneInfo) -> Grant:
    """The grant under which this request may be answered, or a refusal (403/429) that says why."""
    assert actor.agency_code is not None
    request, instant = attempt.request, now(session)
    grant = grant_in_force(session, actor.agency_code, instant)
    if grant is None:
        message = f"agency {actor.agency_code} has no data-sharing agreement in force"
        raise attempt.forbidden(Refused.NO_AGREEMENT, message)
    if request.channel == Channel.QUERY and grant.daily_query_limit is not None:
        _check_quota(session, actor.agency_code, grant, attempt, zone=zone, instant=instant)
    if request.channel not in grant.channels:
        raise attempt.forbidden(Refused.CHANNEL, f"the agreement does not allow the {request.channel} channel", grant)
    if request.purpose is None or request.purpose not in grant.purposes:
        message = f"PARS-Purpose must be one of the agreement's purposes: {', '.join(sorted(grant.purposes))}"
        raise attempt.forbidden(Refused.PURPOSE, message, grant)
    # A case reference names the case a query serves; a feed has no case, so it applies to queries only.
    needs_case = request.channel == Channel.QUERY and grant.require_case_reference
    if needs_case and not (request.case_reference or "").strip():
        raise attempt.forbidden(Refused.CASE_REFERENCE, "the agreement requires a PARS-Case-Reference header", grant)
    return grant


def _check_quota(
    session: Session, agency: str, grant: Grant, attempt: _Attempt, *, zone: ZoneInfo, instant: datetime
) -> None:
    """Get and search requests of the agency since midnight, city time, refused ones included.

    The audit trail is the count: every partner query leaves exactly one entry there."""
    assert grant.daily_query_limit is not None
    local = instant.astimezone(zone)
    midnight = datetime.combine(local.date(), time(0), tzinfo=zone)
    if QUERIES.used(session, agency, midnight) >= grant.daily_query_limit:
        next_midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
        raise TooManyRequests(
            f"the agreement allows {grant.daily_query_limit} queries a day; try again after midnight",
            retry_after=max(1, int((next_midnight - instant).total_seconds())),
            refusal=attempt.refusal(Refused.QUOTA, grant, limit=grant.daily_query_limit),
        )


@dataclass(frozen=True)
class _Counted:
    """An agency's queries of one day up to and including the entry ``seq`` (whose hash was ``hash``)."""

    seq: int
    hash: str
    queries: int


class QueryCounts:
    """Each agency's queries of the day, counted on the audit trail without reading the whole
    day on every request (that cost grew with every query of the day).

    The trail is append-only and ``seq`` follows commit order (the head lock), so a count up to
    an entry stays true: this process remembers it per agency and day and counts only the
    entries after it, in one statement that also reads that entry's hash back. If the entry is
    gone or its hash differs (an emptied or restored database), the day is counted again.
    """

    def __init__(self) -> None:
        self._counted: dict[tuple[str, datetime], _Counted] = {}
        self._lock = threading.Lock()

    def used(self, session: Session, agency: str, midnight: datetime) -> int:
        key = (agency, midnight)
        with self._lock:
            known = self._counted.get(key)
        followed = None if known is None else self._since(session, agency, midnight, known)
        counted = followed or self._day(session, agency, midnight)
        with self._lock:
            current = self._counted.get(key)
            if followed is None or current is None or current.seq < counted.seq:
                if current is None:  # a new day: forget the others
                    self._counted = {k: v for k, v in self._counted.items() if k[1] == midnight}
                self._counted[key] = counted
        return counted.queries

    @staticmethod
    @functools.cache
    def _mine(agency: str) -> ColumnElement[bool]:
        return and_(AuditEntry.agency == agency, AuditEntry.action.in_([str(a) for a in QUERY_ACTIONS]))

    @staticmethod
    @functools.cache
    def _after(agency: str) -> Select[str, int, int, str]:
        """Built once per agency, one row: the hash of the entry counted last, the agency's
        queries today after it (a range of the primary key), the newest entry and its hash.
        One statement, so all four come from one snapshot."""
        entry = AuditEntry.__table__.c
        newest = select(func.max(entry.seq)).scalar_subquery()
        return select(
            select(entry.hash).where(entry.seq == bindparam("known")).scalar_subquery(),
            select(func.count())
            .select_from(AuditEntry)
            .where(entry.seq > bindparam("known"), QueryCounts._mine(agency), entry.at >= bindparam("midnight"))
            .scalar_subquery(),
            newest,
            select(entry.hash).where(entry.seq == newest).scalar_subquery(),
        )

    def _since(self, session: Session, agency: str, midnight: datetime, known: _Counted) -> _Counted | None:
        known_hash, added, newest, newest_hash = session.execute(
            self._after(agency), {"known": known.seq, "midnight": midnight}
        ).one()
        if known_hash != known.hash or newest is None:
            return None
        return _Counted(int(newest), newest_hash, known.queries + int(added or 0))

    def _day(self, session: Session, agency: str, midnight: datetime) -> _Counted:
        queries, last = session.execute(
            select(func.count().filter(self._mine(agency)), func.max(AuditEntry.seq)).where(AuditEntry.at >= midnight)
        ).one()
        if last is None:  # nothing yet today: count from the newest entry there is
            last = session.scalar(select(func.max(AuditEntry.seq)))
            if last is None:
                return _Counted(0, "", 0)
        digest = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == last))
        return _Counted(int(last), digest or "", int(queries or 0))


QUERIES = QueryCounts()


def read(
    session: Session, actor: PartnerActor, arrest_id: uuid.UUID, request: PartnerRequest, *, zone: ZoneInfo
) -> dict[str, Any]:
    attempt = _Attempt(AuditAction.ARREST_READ, request, str(arrest_id))
    grant = authorise(session, actor, attempt, zone=zone)
    case = _case(session, actor, grant, attempt)
    arrest = session.scalars(select(Arrest).where(Arrest.id == arrest_id, grant.scope.condition())).first()
    if arrest is None:
        # Missing, sealed and out of scope are one answer: the partner learns nothing.
        raise NotFound("no such arrest", refusal=attempt.refusal(Refused.OUT_OF_SCOPE, grant))
    _disclose(session, actor, grant, attempt, [arrest], _case_details(session, case, [arrest]))
    return grant.project(arrest_record(arrest))


def search(
    session: Session, actor: PartnerActor, query: SearchQuery, request: PartnerRequest, *, zone: ZoneInfo
) -> Page[dict[str, Any]]:
    """A name search discloses one person or no one (CONTRACT §7): without an identifier
    parameter, matches of more than one person (in scope) are refused as ambiguous, counted in
    SQL, before any record is read."""
    details = _search_details(session, query)
    attempt = _Attempt(AuditAction.ARREST_SEARCH, request, details=details)
    grant = authorise(session, actor, attempt, zone=zone)
    names = set(query.filters)
    ungranted = sorted(p for p in names if (field := SEARCH_PARAMETERS[p]) is not None and field not in grant.fields)
    if ungranted:
        message = f"the agreement does not grant the fields needed to search by {', '.join(ungranted)}"
        # `parameters` here names the ungranted ones: what the probe asked for that it may not.
        raise attempt.forbidden(Refused.PARAMETER, message, grant, parameters=ungranted)
    names_a_person = "last_name" in names and bool({"dob", "first_name"} & names)
    if not (names_a_person or IDENTIFYING_PARAMETERS & names):
        message = (
            "a partner search names a last name with a date of birth or first name, or one of "
            "sid, ppn, tracking_number, incident_number, docket_number"
        )
        raise attempt.forbidden(Refused.TOO_BROAD, message, grant)
    case = _case(session, actor, grant, attempt)
    in_scope = where_filters(select(Arrest).where(grant.scope.condition()), query.filters)
    if not IDENTIFYING_PARAMETERS & names:
        persons = session.scalar(in_scope.with_only_columns(func.count(distinct(Arrest.person_id)))) or 0
        if persons > 1:
            message = (
                f"{persons} different people match this search, so no one is disclosed: add a date of birth "
                "or an identifier (sid, ppn, tracking_number, incident_number, docket_number)"
            )
            reason = {"reason": str(Refused.AMBIGUOUS), "persons": persons}
            raise attempt.forbidden(Refused.AMBIGUOUS, message, grant, members=reason, persons=persons)
    page = page_arrests(session, in_scope, limit=query.limit, cursor=query.cursor, newest_first=True)
    _disclose(session, actor, grant, attempt, page.items, details | _case_details(session, case, page.items))
    return Page([grant.project(arrest_record(a)) for a in page.items], page.next_cursor)


def _case(session: Session, actor: PartnerActor, grant: Grant, attempt: _Attempt) -> CaseStanding | None:
    """The standing of the case the query names (one indexed query), or None without a
    reference. Under an agreement that requires registered cases, a reference that names no open
    case of the agency (or none at all) is refused."""
    assert actor.agency_code is not None
    reference = (attempt.request.case_reference or "").strip()
    case = cases.standing(session, actor.agency_code, reference) if reference else None
    if grant.require_registered_case and (case is None or not case.registered):
        message = "the agreement requires PARS-Case-Reference to name an open case your agency registered"
        members = {"reason": str(Refused.UNREGISTERED_CASE)}
        raise attempt.forbidden(Refused.UNREGISTERED_CASE, message, grant, members=members)
    return case


def _case_details(session: Session, case: CaseStanding | None, arrests: Sequence[Arrest]) -> dict[str, Any]:
    """The ``case`` member of a disclosure's entry (COMMON audit details): only with a reference."""
    if case is None:
        return {}
    explained = case.registered and cases.explains(session, case, arrests)
    return {"case": {"registered": case.registered, "subjects": case.subjects, "explained": explained}}


def _disclose(
    session: Session,
    actor: PartnerActor,
    grant: Grant,
    attempt: _Attempt,
    arrests: Sequence[Arrest],
    details: dict[str, Any] | None = None,
) -> None:
    request = attempt.request
    record_disclosure(
        session,
        actor,
        attempt.action,
        agreement_id=grant.agreement_id,
        agreement_version=grant.version,
        purpose=request.purpose or "",
        case_reference=request.case_reference,
        channel=str(request.channel),
        records=[(a.id, a.person_id) for a in arrests],
        fields=grant.disclosed_fields,
        details=details,
    )


# Parameters that name a person or a case; their normalised values make a search's subject.
_SUBJECT_PARAMETERS = ("last_name", "first_name", "dob", "sid", "ppn", "tracking_number", "incident_number",
                       "docket_number")  # fmt: skip


def _search_details(session: Session, query: SearchQuery) -> dict[str, Any]:
    """What oversight needs to tell searches apart, never the searched values (they are
    personal data): the parameter names and a keyed hash of the normalised identifying values
    (``subject``, ``pars.sharing.keyed``), so that the same person searched again is recognised
    even when nothing was found or the search was refused. A session without the signer raises
    (`pars.sharing.keyed`): never a search without its subject."""
    details: dict[str, Any] = {"parameters": query.parameter_names}
    digest = hasher(session, Domain.SEARCH_SUBJECT)
    values = {}
    for name in _SUBJECT_PARAMETERS:
        value = query.filters.get(name)
        if value is None:
            continue
        if name in ("last_name", "first_name"):
            value = name_key(value) or ""
        elif name == "tracking_number":
            value = compact_tracking_number(value) or value
        else:
            value = " ".join(value.split()).upper()
        values[name] = value
    if values:
        details["subject"] = digest(values)
    return details


# ---------------------------------------------------------------------------------------------
# The feed (CONTRACT §9)


class FeedKind(StrEnum):
    RECORD = "record"  # the record, projected as the agreement in force allows
    WITHDRAWAL = "withdrawal"  # only {"id"}: the partner must delete the record
    RELEASE_NOTICE = "release_notice"  # the notice's four fields, owed under a judicial warrant


RELEASE_NOTICE_FIELDS = ("id", "tracking_number", "released_at", "detainer_id")


@dataclass(frozen=True)
class FeedItem:
    """One event of a partner's stream, as much as the gate needs to decide it."""

    kind: FeedKind
    arrest_id: uuid.UUID
    sequence: int
    detainer_id: uuid.UUID | None = None


@dataclass(frozen=True)
class FeedAudience:
    """A partner whose agreement in force allows the feed channel, and which of the records
    asked about are in its scope at this instant."""

    agency: str
    grant: Grant
    in_scope: frozenset[uuid.UUID]


def feed_audience(session: Session, arrest_ids: Collection[uuid.UUID]) -> list[FeedAudience]:
    """Who an event about these records is due to now (the fan-out asks). Deciding again at
    send time is ``deliver``'s job: being due is not being allowed to receive."""
    instant = now(session)
    grants: dict[str, Grant] = {}
    # One query for every partner's agreements; compiled plans come from the cache.
    agreements = session.execute(
        select(Agency.code, Agreement.id, Agreement.revision)
        .join(Agreement, Agreement.agency_id == Agency.id)
        .where(Agency.kind == "partner")
        .order_by(Agency.code)
    )
    for code, agreement_id, revision in agreements:
        grant = PLANS.plan(session, agreement_id, revision).in_force_at(instant)
        if grant is not None and Channel.FEED in grant.channels:
            grants.setdefault(code, grant)
    if not grants:
        return []
    # One query whatever the number of partners: each distinct scope is a column, true for the
    # records in it (partners under the same terms share one).
    scopes = list(dict.fromkeys(grant.scope for grant in grants.values()))
    rows = session.execute(
        select(Arrest.id, *(scope.condition() for scope in scopes)).where(Arrest.id.in_(list(arrest_ids)))
    ).all()
    members = {scope: frozenset(row[0] for row in rows if row[1 + i]) for i, scope in enumerate(scopes)}
    return [FeedAudience(code, grant, members[grant.scope]) for code, grant in grants.items()]


def open_feed(session: Session, actor: PartnerActor, request: PartnerRequest) -> Grant | None:
    """At the start of a poll or a stream: the grant under which record events may leave, or
    None when the partner has no agreement in force with the feed channel (then only its release
    notices leave, CONTRACT §8). Under such a grant a purpose it does not name is a 403."""
    assert actor.agency_code is not None
    grant = grant_in_force(session, actor.agency_code, now(session))
    if grant is None or Channel.FEED not in grant.channels:
        return None
    if request.purpose is None or request.purpose not in grant.purposes:
        attempt = _Attempt(AuditAction.FEED_READ, replace(request, channel=Channel.FEED))
        message = f"PARS-Purpose must be one of the agreement's purposes: {', '.join(sorted(grant.purposes))}"
        raise attempt.forbidden(Refused.PURPOSE, message, grant)
    return grant


def deliver(
    session: Session, actor: PartnerActor, items: Sequence[FeedItem], request: PartnerRequest, *, zone: ZoneInfo
) -> list[dict[str, Any] | None]:
    """The CloudEvent ``data`` of each stream event that may leave for the actor's agency at
    this instant, or None for one withheld.

    Record events and withdrawals need an agreement in force with the feed channel and the
    stated purpose (no case reference: a feed serves no single case); a record event also needs
    its record in scope now, sealed records never are. Release notices need no agreement, only
    an accepted detainer request of this agency and a record not sealed. Each disclosure and
    each withholding is written to the audit trail in the caller's transaction. Nothing is
    raised: a worker settles a batch for many partners in one transaction.
    """
    request = replace(request, channel=Channel.FEED, case_reference=None)
    results: list[dict[str, Any] | None] = [None] * len(items)
    indexes: dict[FeedKind, list[int]] = {kind: [] for kind in FeedKind}
    for index, item in enumerate(items):
        indexes[item.kind].append(index)
    if indexes[FeedKind.RELEASE_NOTICE]:
        _release_notices(session, actor, items, indexes[FeedKind.RELEASE_NOTICE], results, request)
    stream = indexes[FeedKind.RECORD] + indexes[FeedKind.WITHDRAWAL]
    if not stream:
        return results
    attempt = _Attempt(AuditAction.FEED_WITHHOLD, request)
    try:
        grant = authorise(session, actor, attempt, zone=zone)
    except DomainError as refused:
        refusal = refused.refusal or attempt.refusal(Refused.NO_AGREEMENT)
        _withhold(session, actor, refusal, [items[i] for i in stream])
        return results
    records = indexes[FeedKind.RECORD]
    if records:
        _records(session, actor, grant, attempt, [items[i] for i in records], records, results)
    withdrawals = indexes[FeedKind.WITHDRAWAL]
    if withdrawals:
        ids = _unique_ids(items[i] for i in withdrawals)
        for index in withdrawals:
            results[index] = {"id": str(items[index].arrest_id)}
        # Only the id leaves, which the partner already holds: an audit entry, no accounting row.
        record_event(
            session, actor, AuditAction.FEED_DELIVER, ids[0] if len(ids) == 1 else None,
            {"agreement_id": str(grant.agreement_id), "agreement_version": grant.version, "purpose": request.purpose,
             "channel": str(Channel.FEED), "type": str(FeedKind.WITHDRAWAL), "records": [str(i) for i in ids],
             "fields": ["id"]},
        )  # fmt: skip
    return results


def _records(
    session: Session,
    actor: PartnerActor,
    grant: Grant,
    attempt: _Attempt,
    items: list[FeedItem],
    positions: list[int],
    results: list[dict[str, Any] | None],
) -> None:
    # FOR SHARE on PostgreSQL: a sealing or a step in progress on one of these records finishes
    # first, and then this sees it, so a record sealed a moment ago never leaves.
    query = (
        select(Arrest)
        .where(Arrest.id.in_(_unique_ids(items)), grant.scope.condition())
        .with_for_update(read=True, of=Arrest)
    )
    arrests = {arrest.id: arrest for arrest in session.scalars(query)}
    projected = {arrest_id: grant.project(arrest_record(arrest)) for arrest_id, arrest in arrests.items()}
    withheld = [item for item in items if item.arrest_id not in arrests]
    for item, position in zip(items, positions, strict=True):
        results[position] = projected.get(item.arrest_id)
    if withheld:
        _withhold(session, actor, attempt.refusal(Refused.OUT_OF_SCOPE, grant), withheld)
    if arrests:
        record_disclosure(
            session,
            actor,
            AuditAction.FEED_DELIVER,
            agreement_id=grant.agreement_id,
            agreement_version=grant.version,
            purpose=attempt.request.purpose or "",
            case_reference=None,
            channel=str(Channel.FEED),
            records=[(arrest.id, arrest.person_id) for arrest in arrests.values()],
            fields=grant.disclosed_fields,
        )


def _release_notices(
    session: Session,
    actor: PartnerActor,
    items: Sequence[FeedItem],
    positions: list[int],
    results: list[dict[str, Any] | None],
    request: PartnerRequest,
) -> None:
    detainer_ids = {items[i].detainer_id for i in positions if items[i].detainer_id is not None}
    rows = session.execute(
        select(DetainerRequest, Arrest)
        .join(Arrest, Arrest.id == DetainerRequest.arrest_id)
        .where(DetainerRequest.id.in_(detainer_ids))
        .with_for_update(read=True, of=Arrest)
    ).all()
    found = {detainer.id: (detainer, arrest) for detainer, arrest in rows}
    sent: list[FeedItem] = []
    withheld: list[FeedItem] = []
    for position in positions:
        item = items[position]
        detainer, arrest = found.get(item.detainer_id, (None, None)) if item.detainer_id else (None, None)
        owed = (
            detainer is not None
            and arrest is not None
            and detainer.status == "accepted"
            and detainer.agency.code == actor.agency_code
            and arrest.id == item.arrest_id
            and arrest.released_at is not None
            and not arrest.sealed
        )
        if not owed:
            withheld.append(item)
            continue
        assert detainer is not None and arrest is not None
        results[position] = {
            "id": str(arrest.id),
            "tracking_number": display_tracking_number(arrest.tracking_number),
            "released_at": iso(arrest.released_at),
            "detainer_id": str(detainer.id),
        }
        sent.append(item)
    if withheld:
        attempt = _Attempt(AuditAction.FEED_WITHHOLD, request)
        _withhold(session, actor, attempt.refusal(Refused.OUT_OF_SCOPE, type=str(FeedKind.RELEASE_NOTICE)), withheld)
    if sent:
        ids = _unique_ids(sent)
        # Owed under a judicial warrant, not an agreement: on the trail, with the detainer that
        # earned it, but not in the agreement accounting (which names an agreement).
        record_event(
            session, actor, AuditAction.FEED_DELIVER, ids[0] if len(ids) == 1 else None,
            {"type": str(FeedKind.RELEASE_NOTICE), "basis": "judicial_warrant", "channel": str(Channel.FEED),
             "detainers": sorted({str(i.detainer_id) for i in sent}), "records": [str(i) for i in ids],
             "fields": list(RELEASE_NOTICE_FIELDS)},
        )  # fmt: skip


def _withhold(session: Session, actor: PartnerActor, refusal: Refusal, items: Sequence[FeedItem]) -> None:
    """One refusal entry for the events withheld together, naming their stream sequences."""
    ids = _unique_ids(items)
    details = refusal.details | {"records": [str(i) for i in ids], "sequences": [i.sequence for i in items]}
    target = str(ids[0]) if len(ids) == 1 else None
    record_event(session, actor, AuditAction.FEED_WITHHOLD, target, details, outcome=Outcome.REFUSED)


def _unique_ids(items: Iterable[FeedItem]) -> list[uuid.UUID]:
    return list(dict.fromkeys(item.arrest_id for item in items))
