"""Agreements, their versions, votes, suspension and termination (CONTRACT §6).

Every change bumps the agreement's `revision`, which retires its compiled grants everywhere.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pars.actors import Actor
from pars.audit import AuditAction, record_event
from pars.auth.models import Agency
from pars.auth.service import agency_by_code
from pars.clock import now
from pars.errors import Conflict, FieldError, Invalid, NotFound
from pars.pagination import Page, keyset_page
from pars.records.fields import RECORD_FIELDS
from pars.sharing.grants import compile_agreement
from pars.sharing.models import Agreement, AgreementVersion, LiftVote, Vote
from pars.sharing.schemas import AgreementIn, TermsIn
from pars.sharing.standing import Act, LiftBallot, openings, pending_version, require_open
from pars.sharing.vocabulary import Channel, Purpose, VersionStatus

# A termination "now" typed a moment ago still means now.
TERMINATION_GRACE = timedelta(minutes=5)


@dataclass(frozen=True)
class Policy:
    """The city-wide rules an agreement must keep (from settings)."""

    protected_fields: frozenset[str]
    prohibited_purposes: frozenset[str]
    quorum: int


def _unique(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def validate_terms(terms: TermsIn, policy: Policy) -> dict[str, Any]:
    """422 for anything an agreement may not say; returns the terms as stored."""
    errors: list[FieldError] = []
    for i, name in enumerate(terms.fields):
        if name in policy.protected_fields:
            errors.append(FieldError(f"fields[{i}]", f"{name} is protected: no agreement may include it"))
        elif name not in RECORD_FIELDS:
            errors.append(FieldError(f"fields[{i}]", f"{name} is not a field of the arrest record"))
    for i, purpose in enumerate(terms.purposes):
        if purpose in policy.prohibited_purposes:
            errors.append(FieldError(f"purposes[{i}]", f"{purpose} is a prohibited purpose"))
        elif purpose not in set(Purpose):
            errors.append(FieldError(f"purposes[{i}]", f"{purpose} is not a known purpose"))
    for i, channel in enumerate(terms.channels):
        if channel not in set(Channel):
            errors.append(FieldError(f"channels[{i}]", f"{channel} is not a channel (query, feed)"))
    if terms.expires_at <= terms.effective_from:
        errors.append(FieldError("expires_at", "must be after effective_from"))
    if errors:
        raise Invalid(errors)
    scope = terms.scope.model_dump(mode="json")
    if scope["grades"] is not None:
        scope["grades"] = _unique([g.strip().upper() for g in scope["grades"]])
    return {
        "title": terms.title,
        "document_ref": terms.document_ref,
        "effective_from": terms.effective_from.astimezone(UTC),
        "expires_at": terms.expires_at.astimezone(UTC),
        "purposes": _unique(terms.purposes),
        "channels": _unique(terms.channels),
        "fields": _unique(terms.fields),
        "scope": scope,
        "require_case_reference": terms.require_case_reference,
        "require_registered_case": terms.require_registered_case,
        "daily_query_limit": terms.daily_query_limit,
    }


def _window_end(agreement: Agreement, version: AgreementVersion) -> datetime:
    if agreement.terminated_at is not None:
        return min(version.expires_at, agreement.terminated_at)
    return version.expires_at


def _check_no_overlap(
    session: Session, agency_id: uuid.UUID, agreement_id: uuid.UUID | None, terms: dict[str, Any]
) -> None:
    """At most one agreement per partner is in force at any instant."""
    others = session.scalars(select(Agreement).where(Agreement.agency_id == agency_id, Agreement.id != agreement_id))
    for other in others:
        for version in other.versions:
            if version.approved_at is None:
                continue
            if version.effective_from < terms["expires_at"] and terms["effective_from"] < _window_end(other, version):
                raise Conflict(f"the window overlaps agreement {other.id} version {version.version} of the same agency")


def _partner_agency(session: Session, code: str) -> Agency:
    agency = agency_by_code(session, code)
    if agency is None:
        raise Invalid.one("agency", f"no agency with code {code}")
    if agency.kind != "partner":
        raise Invalid.one("agency", "agreements are made with partner agencies only")
    return agency


def _actor_agency(session: Session, actor: Actor) -> Agency:
    agency = agency_by_code(session, actor.agency_code or "")
    assert agency is not None
    return agency


def _changed(agreement: Agreement) -> None:
    agreement.revision += 1


def propose(session: Session, actor: Actor, data: AgreementIn, policy: Policy) -> Agreement:
    terms = validate_terms(data, policy)
    agency = _partner_agency(session, data.agency)
    _check_no_overlap(session, agency.id, None, terms)
    instant = now(session)
    agreement = Agreement(agency=agency, created_at=instant)
    agreement.versions.append(AgreementVersion(version=1, status=VersionStatus.PROPOSED, proposed_at=instant, **terms))
    session.add(agreement)
    session.flush()
    record_event(session, actor, AuditAction.AGREEMENT_PROPOSE, agreement.id, _audit_terms(agency.code, 1, terms))
    return agreement


def _audit_terms(agency: str, version: int, terms: dict[str, Any]) -> dict[str, Any]:
    return {
        "agency": agency,
        "version": version,
        "purposes": terms["purposes"],
        "channels": terms["channels"],
        "fields": terms["fields"],
        "scope": terms["scope"],
        "require_case_reference": terms["require_case_reference"],
        "require_registered_case": terms["require_registered_case"],
        "effective_from": terms["effective_from"].isoformat(),
        "expires_at": terms["expires_at"].isoformat(),
    }


def load(session: Session, agreement_id: uuid.UUID, *, for_update: bool = False) -> Agreement:
    query = select(Agreement).where(Agreement.id == agreement_id)
    if for_update:
        query = query.with_for_update(of=Agreement)
    agreement = session.scalars(query).first()
    if agreement is None:
        raise NotFound("no such agreement")
    return agreement


def amend(session: Session, actor: Actor, agreement_id: uuid.UUID, data: TermsIn, policy: Policy) -> Agreement:
    """A renewal or amendment: a new proposed version, in force only once approved."""
    agreement = load(session, agreement_id, for_update=True)
    require_open(Act.AMEND, agreement, _actor_agency(session, actor), [], now(session))
    terms = validate_terms(data, policy)
    _check_no_overlap(session, agreement.agency_id, agreement.id, terms)
    # An older proposal still open is replaced by the new one: votes go to the newest only.
    for version in agreement.versions:
        if version.status == VersionStatus.PROPOSED:
            version.status = VersionStatus.SUPERSEDED
    number = max(v.version for v in agreement.versions) + 1
    agreement.versions.append(
        AgreementVersion(version=number, status=VersionStatus.PROPOSED, proposed_at=now(session), **terms)
    )
    _changed(agreement)
    session.flush()
    record_event(
        session, actor, AuditAction.AGREEMENT_AMEND, agreement.id, _audit_terms(agreement.agency.code, number, terms)
    )
    return agreement


def _stakeholder_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Agency).where(Agency.stakeholder.is_(True))) or 0


def vote(session: Session, actor: Actor, agreement_id: uuid.UUID, choice: str, policy: Policy) -> Agreement:
    agency = _actor_agency(session, actor)
    agreement = load(session, agreement_id, for_update=True)
    instant = now(session)
    require_open(Act.VOTE, agreement, agency, [], instant)
    version = pending_version(agreement)
    assert version is not None  # an open vote has a version to vote on
    version.votes.append(Vote(agency_id=agency.id, agency=agency, user_id=actor.user_id, vote=choice, at=instant))
    _changed(agreement)
    record_event(session, actor, AuditAction.AGREEMENT_VOTE, agreement.id, {"version": version.version, "vote": choice})
    yes = sum(v.vote == "yes" for v in version.votes)
    no = sum(v.vote == "no" for v in version.votes)
    if yes >= policy.quorum:
        _approve(session, actor, agreement, version, instant)
    elif _stakeholder_count(session) - no < policy.quorum:
        version.status = VersionStatus.REJECTED
        record_event(session, actor, AuditAction.AGREEMENT_REJECT, agreement.id, {"version": version.version})
    session.flush()
    return agreement


def _approve(
    session: Session, actor: Actor, agreement: Agreement, version: AgreementVersion, instant: datetime
) -> None:
    terms = {"effective_from": version.effective_from, "expires_at": version.expires_at}
    _check_no_overlap(session, agreement.agency_id, agreement.id, terms)
    for earlier in agreement.versions:
        if earlier.status == VersionStatus.APPROVED:
            earlier.status = VersionStatus.SUPERSEDED
    version.status, version.approved_at = VersionStatus.APPROVED, instant
    record_event(
        session,
        actor,
        AuditAction.AGREEMENT_APPROVE,
        agreement.id,
        {"version": version.version, "in_force_from": max(version.effective_from, instant).isoformat()},
    )


def suspend(session: Session, actor: Actor, agreement_id: uuid.UUID, reason: str) -> Agreement:
    """Any one stakeholder stops all disclosure at once."""
    agreement = load(session, agreement_id, for_update=True)
    require_open(Act.SUSPEND, agreement, _actor_agency(session, actor), [], now(session))
    agreement.suspended, agreement.suspended_at, agreement.suspension_reason = True, now(session), reason
    agreement.suspension_round += 1
    _changed(agreement)
    session.flush()
    record_event(session, actor, AuditAction.AGREEMENT_SUSPEND, agreement.id, {"reason": reason})
    return agreement


def vote_to_lift(session: Session, actor: Actor, agreement_id: uuid.UUID, policy: Policy) -> Agreement:
    """A stakeholder's vote to lift; the suspension lifts when quorum agencies have voted so."""
    agency = _actor_agency(session, actor)
    agreement = load(session, agreement_id, for_update=True)
    ballots = lift_ballots(session, agreement)
    require_open(Act.LIFT, agreement, agency, ballots, now(session))
    votes = [b for b in ballots if b.round == agreement.suspension_round]
    session.add(
        LiftVote(
            agreement_id=agreement.id,
            round=agreement.suspension_round,
            agency_id=agency.id,
            user_id=actor.user_id,
            at=now(session),
        )
    )
    _changed(agreement)
    record_event(session, actor, AuditAction.AGREEMENT_LIFT_VOTE, agreement.id, {"votes": len(votes) + 1})
    if len(votes) + 1 >= policy.quorum:
        agreement.suspended = False
        record_event(session, actor, AuditAction.AGREEMENT_LIFT, agreement.id)
    session.flush()
    return agreement


def terminate(
    session: Session, actor: Actor, agreement_id: uuid.UUID, effective_at: datetime, reason: str
) -> Agreement:
    agreement = load(session, agreement_id, for_update=True)
    instant = now(session)
    require_open(Act.TERMINATE, agreement, _actor_agency(session, actor), [], instant)
    if effective_at < instant - TERMINATION_GRACE:
        raise Invalid.one("effective_at", "is in the past: a termination takes effect now or later")
    agreement.terminated_at = max(effective_at, instant)
    agreement.termination_reason = reason
    _changed(agreement)
    session.flush()
    record_event(
        session, actor, AuditAction.AGREEMENT_TERMINATE, agreement.id,
        {"effective_at": agreement.terminated_at.isoformat(), "reason": reason},
    )  # fmt: skip
    return agreement


def visible(session: Session, actor: Actor, agreement_id: uuid.UUID) -> Agreement:
    """A partner sees its own agency's agreements only; another's is 404, never 403."""
    agreement = load(session, agreement_id)
    if actor.is_partner and agreement.agency.code != actor.agency_code:
        raise NotFound("no such agreement")
    record_event(session, actor, AuditAction.AGREEMENT_READ, agreement.id)
    return agreement


def listing(session: Session, actor: Actor, *, limit: int, cursor: str | None) -> Page[Agreement]:
    query = select(Agreement).join(Agency)
    if actor.is_partner:
        query = query.where(Agency.code == actor.agency_code)
    page = keyset_page(session, query, at=Agreement.created_at, ident=Agreement.id, limit=limit, cursor=cursor)
    record_event(session, actor, AuditAction.AGREEMENT_READ, None, {"results": len(page.items)})
    return page


def describe(agreement: Agreement, instant: datetime) -> dict[str, Any]:
    """The agreement as CONTRACT §6 shows it, with `in_force` at `instant`."""
    grant = compile_agreement(agreement).in_force_at(instant)
    return {
        "id": str(agreement.id),
        "agency": agreement.agency.code,
        "in_force": grant is not None,
        "current_version": None if grant is None else grant.version,
        "suspended": agreement.suspended,
        "terminated_at": None if agreement.terminated_at is None else agreement.terminated_at.isoformat(),
        "versions": [_describe_version(v) for v in agreement.versions],
    }


def _describe_version(version: AgreementVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "status": version.status,
        "title": version.title,
        "document_ref": version.document_ref,
        "effective_from": version.effective_from.isoformat(),
        "expires_at": version.expires_at.isoformat(),
        "purposes": version.purposes,
        "channels": version.channels,
        "fields": version.fields,
        "scope": version.scope,
        "require_case_reference": version.require_case_reference,
        "require_registered_case": version.require_registered_case,
        "daily_query_limit": version.daily_query_limit,
        "votes": [{"agency": v.agency.code, "vote": v.vote, "at": v.at.isoformat()} for v in version.votes],
    }


def lift_ballots(session: Session, agreement: Agreement) -> list[LiftBallot]:
    """Every vote to lift a suspension of `agreement`, by round then time. Callers pass an
    agreement they obtained through `visible`, so its reader may see these too."""
    rows = session.execute(
        select(LiftVote, Agency.code)
        .join(Agency, Agency.id == LiftVote.agency_id)
        .where(LiftVote.agreement_id == agreement.id)
        .order_by(LiftVote.round, LiftVote.at)
    ).all()
    return [LiftBallot(vote.round, code, vote.user_id, vote.at) for vote, code in rows]


def awaiting_decision(session: Session, actor: Actor) -> tuple[int, int]:
    """For a governance user's home page: how many agreements wait for their agency's vote (a
    version pending, not yet voted on by the agency, not terminated), and how many are suspended
    with this agency's vote to lift still open. A non-stakeholder agency waits on nothing."""
    agency = agency_by_code(session, actor.agency_code or "")
    if agency is None or not agency.stakeholder:
        return 0, 0
    instant = now(session)
    live = session.scalars(select(Agreement).where(Agreement.terminated_at.is_(None))).unique().all()
    votes = lifts = 0
    for agreement in live:
        opened = openings(agreement, agency, lift_ballots(session, agreement), instant)
        votes += opened[Act.VOTE].allowed
        lifts += opened[Act.LIFT].allowed
    return votes, lifts
