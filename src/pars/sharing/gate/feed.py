"""The feed channel (CONTRACT §9) through the gate: ``feed_audience`` says, when an event is
fanned out, which partners it is due to; ``open_feed`` starts a poll or a stream; ``deliver``
decides and projects each stream event at the instant it is sent or read, under the agreement
in force then."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.actors import PartnerActor
from pars.audit import AuditAction, Disclosed, Outcome, record_disclosures, record_event
from pars.auth.models import Agency
from pars.clock import now
from pars.errors import DomainError, Refusal
from pars.records.models import Arrest
from pars.records.numbers import display_tracking_number
from pars.records.serialize import arrest_record, iso
from pars.sharing.gate.core import Attempt, PartnerRequest, authorise, purpose_refused
from pars.sharing.grants import PLANS, Grant, grant_in_force
from pars.sharing.models import Agreement, DetainerRequest
from pars.sharing.vocabulary import Channel, Refused


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
        raise purpose_refused(Attempt(AuditAction.FEED_READ, replace(request, channel=Channel.FEED)), grant)
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
    return deliver_many(session, [FeedBatch(actor, items, request)], zone=zone)[0]


@dataclass(frozen=True)
class FeedBatch:
    """The events of one partner's stream going out together (a webhook endpoint's batch)."""

    actor: PartnerActor
    items: Sequence[FeedItem]
    request: PartnerRequest


@dataclass
class _Decided:
    """What the gate settled for a batch before anything is written: the request as the feed
    channel states it, the grant or the refusal, and where each kind of event sits."""

    batch: FeedBatch
    request: PartnerRequest
    attempt: Attempt
    grant: Grant | None
    refused: DomainError | None
    indexes: dict[FeedKind, list[int]]


def deliver_many(
    session: Session, batches: Sequence[FeedBatch], *, zone: ZoneInfo
) -> list[list[dict[str, Any] | None]]:
    """``deliver`` for each batch, with the same decisions and the same audit entries in the
    same order, but with the work shared: the grant in force is looked up once per agency and
    purpose, and each record is read (one statement per grant) and projected once per grant,
    however many of the agency's endpoints it goes to. The worker's round asks for all its
    endpoints at once."""
    decided = _decide(session, batches, zone)
    read = _read_asked(session, decided)
    # The round's disclosures are written together (`record_disclosures`: an entry each, their
    # accounting rows in one statement), but before any other entry, so the trail's order is
    # the order of the decisions.
    owed: list[Disclosed] = []

    def account() -> None:
        if owed:
            record_disclosures(session, owed)
            owed.clear()

    answers: list[list[dict[str, Any] | None]] = []
    for entry in decided:
        items = entry.batch.items
        results: list[dict[str, Any] | None] = [None] * len(items)
        answers.append(results)
        actor, indexes = entry.batch.actor, entry.indexes
        if indexes[FeedKind.RELEASE_NOTICE]:
            account()
            _release_notices(session, actor, items, indexes[FeedKind.RELEASE_NOTICE], results, entry.request)
        stream = indexes[FeedKind.RECORD] + indexes[FeedKind.WITHDRAWAL]
        if not stream:
            continue
        if entry.grant is None:
            why = (entry.refused.refusal if entry.refused else None) or entry.attempt.refusal(Refused.NO_AGREEMENT)
            account()
            _withhold(session, actor, why, [items[i] for i in stream])
            continue
        grant = entry.grant
        records = indexes[FeedKind.RECORD]
        if records:
            withheld, disclosed = _records(actor, grant, entry.attempt, [items[i] for i in records], records,
                                           results, read[(grant.agreement_id, grant.version)])  # fmt: skip
            if withheld:
                account()
                _withhold(session, actor, entry.attempt.refusal(Refused.OUT_OF_SCOPE, grant), withheld)
            if disclosed:
                owed.append(disclosed)
        withdrawals = indexes[FeedKind.WITHDRAWAL]
        if withdrawals:
            account()
            ids = _unique_ids(items[i] for i in withdrawals)
            for index in withdrawals:
                results[index] = {"id": str(items[index].arrest_id)}
            # Only the id leaves, which the partner already holds: an audit entry, no accounting row.
            record_event(
                session, actor, AuditAction.FEED_DELIVER, ids[0] if len(ids) == 1 else None,
                {"agreement_id": str(grant.agreement_id), "agreement_version": grant.version,
                 "purpose": entry.request.purpose, "channel": str(Channel.FEED), "type": str(FeedKind.WITHDRAWAL),
                 "records": [str(i) for i in ids], "fields": ["id"]},
            )  # fmt: skip
    account()
    return answers


def _decide(session: Session, batches: Sequence[FeedBatch], zone: ZoneInfo) -> list[_Decided]:
    """Each batch's request as the feed channel states it, and its grant or refusal: the grant
    in force looked up once per agency and purpose."""
    grants: dict[tuple[str | None, str | None], Grant | DomainError] = {}
    decided: list[_Decided] = []
    for batch in batches:
        request = replace(batch.request, channel=Channel.FEED, case_reference=None)
        attempt = Attempt(AuditAction.FEED_WITHHOLD, request)
        indexes: dict[FeedKind, list[int]] = {kind: [] for kind in FeedKind}
        for index, item in enumerate(batch.items):
            indexes[item.kind].append(index)
        grant: Grant | None = None
        refused: DomainError | None = None
        if indexes[FeedKind.RECORD] or indexes[FeedKind.WITHDRAWAL]:
            # Only the agency and the purpose decide (the feed channel has no quota or case).
            key = (batch.actor.agency_code, request.purpose)
            if key not in grants:
                try:
                    grants[key] = authorise(session, batch.actor, attempt, zone=zone)
                except DomainError as refused_here:
                    grants[key] = refused_here
            found = grants[key]
            grant, refused = (None, found) if isinstance(found, DomainError) else (found, None)
        decided.append(_Decided(batch, request, attempt, grant, refused, indexes))
    return decided


def _read_asked(session: Session, decided: list[_Decided]) -> dict[tuple[uuid.UUID, int], _Read]:
    """Every record asked about under a grant, read once (FOR SHARE) and projected once, by
    (agreement, version)."""
    wanted: dict[tuple[uuid.UUID, int], tuple[Grant, dict[uuid.UUID, None]]] = {}
    for entry in decided:
        if entry.grant is not None:
            _, asked = wanted.setdefault((entry.grant.agreement_id, entry.grant.version), (entry.grant, {}))
            for index in entry.indexes[FeedKind.RECORD]:
                asked[entry.batch.items[index].arrest_id] = None
    return {key: _read(session, grant, list(asked)) for key, (grant, asked) in wanted.items() if asked}


@dataclass(frozen=True)
class _Read:
    """The records of a grant's scope among those asked about, in the order read, each with its
    person and its projected ``data``."""

    people: dict[uuid.UUID, uuid.UUID]  # arrest id → person id
    projected: dict[uuid.UUID, dict[str, Any]]


def _read(session: Session, grant: Grant, ids: list[uuid.UUID]) -> _Read:
    # FOR SHARE on PostgreSQL: a sealing or a step in progress on one of these records finishes
    # first, and then this sees it, so a record sealed a moment ago never leaves.
    query = select(Arrest).where(Arrest.id.in_(ids), grant.scope.condition()).with_for_update(read=True, of=Arrest)
    arrests = list(session.scalars(query))
    # The CloudEvent's `data`: the projected record as JSON, absent members left out.
    return _Read(
        people={arrest.id: arrest.person_id for arrest in arrests},
        projected={arrest.id: grant.project(arrest_record(arrest)).model_dump(mode="json") for arrest in arrests},
    )


def _records(
    actor: PartnerActor,
    grant: Grant,
    attempt: Attempt,
    items: list[FeedItem],
    positions: list[int],
    results: list[dict[str, Any] | None],
    read: _Read,
) -> tuple[list[FeedItem], Disclosed | None]:
    """Fills in the data of the record events in scope; returns the events withheld (out of
    scope now) and the disclosure to account for, if any record leaves."""
    asked = set(_unique_ids(items))
    arrests = [(arrest_id, person_id) for arrest_id, person_id in read.people.items() if arrest_id in asked]
    withheld = [item for item in items if item.arrest_id not in read.people]
    for item, position in zip(items, positions, strict=True):
        results[position] = read.projected.get(item.arrest_id)
    if not arrests:
        return withheld, None
    purpose = attempt.request.purpose or ""
    disclosed = Disclosed(actor, AuditAction.FEED_DELIVER, grant.agreement_id, grant.version, purpose, None,
                          str(Channel.FEED), arrests, grant.disclosed_fields)  # fmt: skip
    return withheld, disclosed


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
        attempt = Attempt(AuditAction.FEED_WITHHOLD, request)
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
