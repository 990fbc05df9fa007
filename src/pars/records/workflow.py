"""The workflow after booking: charging, arraignment, commitment, release and sealing.

Each step checks the state it starts from (409 otherwise), changes the record, and adds its
audit entry and outbox event in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from pars.actors import CityActor
from pars.audit import AuditAction, record_event
from pars.clock import now
from pars.errors import FieldError, Invalid, InvalidTransition
from pars.outbox.events import EventType, emit
from pars.records.intake import ResolvedCharge, not_in_future, resolve_charges
from pars.records.models import Arrest, Charge
from pars.records.numbers import docket_number, next_value
from pars.records.repository import load_arrest
from pars.records.schemas import (
    ArraignmentIn,
    BailType,
    ChargeStatus,
    ChargingDecisionIn,
    CommitmentIn,
    Custody,
    ReleaseIn,
    SealIn,
    Status,
)


def _require_state(arrest: Arrest, allowed: Collection[Status], step: str) -> None:
    if arrest.status not in allowed:
        wanted = " or ".join(allowed)
        raise InvalidTransition(f"{step} needs status {wanted}; this arrest is {arrest.status}")


def _touch(session: Session, arrest: Arrest) -> datetime:
    arrest.updated_at = now(session)
    return arrest.updated_at


def record_charging_decision(
    session: Session, actor: CityActor, arrest_id: uuid.UUID, decision: ChargingDecisionIn, *, zone: ZoneInfo
) -> Arrest:
    arrest = load_arrest(session, actor, arrest_id, for_update=True)
    _require_state(arrest, [Status.BOOKED], "a charging decision")
    if decision.decision == "modified" and not decision.charges:
        raise Invalid.one("charges", "a modified decision lists the charges as filed")
    if decision.decision != "modified" and decision.charges:
        raise Invalid.one("charges", "charges are given only with a modified decision")
    instant = _touch(session, arrest)
    if decision.decision == "declined":
        for charge in arrest.charges:
            charge.status = ChargeStatus.DECLINED
        arrest.status = Status.CHARGES_DECLINED
    else:
        if decision.decision == "modified":
            assert decision.charges is not None
            _file_modified_charges(arrest, resolve_charges(decision.charges))
        else:
            for charge in arrest.charges:
                charge.status = ChargeStatus.APPROVED
        year = instant.astimezone(zone).year
        arrest.docket_number = docket_number(next_value(session, f"docket:{year}"), year)
        arrest.status = Status.CHARGES_APPROVED
    arrest.charging_decision = decision.decision
    arrest.charging_decided_at = instant
    arrest.charging_notes = decision.notes
    session.flush()
    record_event(
        session,
        actor,
        AuditAction.ARREST_CHARGING_DECISION,
        arrest.id,
        {"decision": decision.decision, "docket_number": arrest.docket_number},
    )
    emit(session, EventType.DECLINED if decision.decision == "declined" else EventType.CHARGED, arrest.id)
    return arrest


def _file_modified_charges(arrest: Arrest, filed: list[ResolvedCharge]) -> None:
    """A charge filed as booked (same statute and grade) is approved in place; booked charges
    not filed are declined; new ones are added. The record keeps what police charged."""
    remaining = list(arrest.charges)
    next_sequence = max((c.sequence for c in arrest.charges), default=0) + 1
    for item in filed:
        statute = item.offense.statute
        match = next(
            (
                c
                for c in remaining
                if (c.title, c.section, c.subsection, c.grade)
                == (statute.title, statute.section, statute.subsection, item.grade)
            ),
            None,
        )
        if match is not None:
            remaining.remove(match)
            match.status, match.counts = ChargeStatus.APPROVED, item.counts
            continue
        arrest.charges.append(
            Charge(
                sequence=next_sequence,
                title=statute.title,
                section=statute.section,
                subsection=statute.subsection,
                grade=item.grade,
                description=item.offense.description,
                counts=item.counts,
                status=ChargeStatus.APPROVED,
            )
        )
        next_sequence += 1
    for charge in remaining:
        charge.status = ChargeStatus.DECLINED


def record_arraignment(session: Session, actor: CityActor, arrest_id: uuid.UUID, hearing: ArraignmentIn) -> Arrest:
    arrest = load_arrest(session, actor, arrest_id, for_update=True)
    _require_state(arrest, [Status.CHARGES_APPROVED], "an arraignment")
    errors: list[FieldError] = []
    if hearing.held_at < arrest.arrested_at:
        errors.append(FieldError("held_at", "is before the arrest"))
    if hearing.next_hearing_at < hearing.held_at:
        errors.append(FieldError("next_hearing_at", "is before held_at"))
    amount = hearing.bail_amount
    if hearing.bail_type == BailType.MONETARY and amount is None:
        errors.append(FieldError("bail_amount", "is required for monetary bail"))
    elif amount is not None and amount < Decimal(0):
        errors.append(FieldError("bail_amount", "must not be negative"))
    elif amount is not None and hearing.bail_type not in (BailType.MONETARY, BailType.UNSECURED):
        errors.append(FieldError("bail_amount", f"does not apply to {hearing.bail_type} bail"))
    if errors:
        raise Invalid(errors)
    not_in_future(session, hearing.held_at, "held_at")
    _touch(session, arrest)
    arrest.arraigned_at = hearing.held_at
    arrest.bail_type = hearing.bail_type
    arrest.bail_amount = amount
    arrest.bail_conditions = hearing.conditions
    arrest.next_hearing_at = hearing.next_hearing_at
    arrest.status = Status.ARRAIGNED
    session.flush()
    record_event(session, actor, AuditAction.ARREST_ARRAIGNMENT, arrest.id, {"bail_type": str(hearing.bail_type)})
    emit(session, EventType.ARRAIGNED, arrest.id)
    return arrest


def record_commitment(session: Session, actor: CityActor, arrest_id: uuid.UUID, commitment: CommitmentIn) -> Arrest:
    arrest = load_arrest(session, actor, arrest_id, for_update=True)
    _require_state(arrest, [Status.ARRAIGNED], "a commitment")
    _touch(session, arrest)
    arrest.facility = commitment.facility
    arrest.custody_status = Custody.COMMITTED
    arrest.status = Status.COMMITTED
    session.flush()
    record_event(session, actor, AuditAction.ARREST_COMMITMENT, arrest.id, {"facility": commitment.facility})
    emit(session, EventType.COMMITTED, arrest.id)
    return arrest


def record_release(session: Session, actor: CityActor, arrest_id: uuid.UUID, release: ReleaseIn) -> Arrest:
    arrest = load_arrest(session, actor, arrest_id, for_update=True)
    _require_state(arrest, [Status.CHARGES_DECLINED, Status.ARRAIGNED, Status.COMMITTED], "a release")
    if release.released_at < arrest.arrested_at:
        raise Invalid.one("released_at", "is before the arrest")
    not_in_future(session, release.released_at, "released_at")
    _touch(session, arrest)
    arrest.released_at = release.released_at
    arrest.release_reason = release.reason
    arrest.custody_status = Custody.RELEASED
    arrest.status = Status.RELEASED
    session.flush()
    record_event(session, actor, AuditAction.ARREST_RELEASE, arrest.id, {"reason": release.reason})
    emit(session, EventType.RELEASED, arrest.id)
    return arrest


def seal_arrest(session: Session, actor: CityActor, arrest_id: uuid.UUID, order: SealIn) -> Arrest:
    arrest = load_arrest(session, actor, arrest_id, for_update=True)
    if arrest.sealed:
        raise InvalidTransition("this arrest is already sealed")
    arrest.sealed = True
    arrest.sealed_at = _touch(session, arrest)
    arrest.seal_order_ref = order.order_ref
    session.flush()
    record_event(session, actor, AuditAction.ARREST_SEAL, arrest.id, {"order_ref": order.order_ref})
    # Partners that received the record must delete it; the feed decides who that is.
    emit(session, EventType.WITHDRAWN, arrest.id, {"reason": "sealed"})
    return arrest
