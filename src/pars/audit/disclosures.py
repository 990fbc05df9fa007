"""The accounting of disclosures: what left PARS, to whom, under which terms (CONTRACT §10).

The sharing gate calls ``record_disclosure`` for every batch of records it lets out; oversight
reads the accounting per record or per person.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.actions import AuditAction
from pars.actors import Actor
from pars.audit.canonical import canonical_text
from pars.audit.chain import stage_disclosures
from pars.audit.models import Disclosure
from pars.audit.service import record_event
from pars.clock import now
from pars.errors import BadRequest, Invalid
from pars.pagination import Page, decode_cursor, encode_cursor


@dataclass(frozen=True)
class Disclosed:
    """One batch of records that left for a partner, as ``record_disclosure`` takes it."""

    actor: Actor
    action: AuditAction
    agreement_id: uuid.UUID
    agreement_version: int
    purpose: str
    case_reference: str | None
    channel: str
    records: Sequence[tuple[uuid.UUID, uuid.UUID]]
    fields: Sequence[str]
    details: Mapping[str, Any] | None = field(default=None)


def record_disclosure(
    session: Session,
    actor: Actor,
    action: AuditAction,
    *,
    agreement_id: uuid.UUID,
    agreement_version: int,
    purpose: str,
    case_reference: str | None,
    channel: str,
    records: Sequence[tuple[uuid.UUID, uuid.UUID]],
    fields: Sequence[str],
    details: Mapping[str, Any] | None = None,
) -> None:
    """One audit entry for the whole batch, and one accounting row per record that left.

    ``records`` are (arrest id, person id) pairs; ``fields`` the field names each carried. An
    empty batch (a search that found nothing) still leaves its entry: the query happened.
    ``details`` adds members to the entry (a search's parameter names, for oversight); it never
    replaces the accounting members above, and like every detail holds no searched values.
    """
    batch = Disclosed(
        actor, action, agreement_id, agreement_version, purpose, case_reference, channel, records, fields, details
    )
    record_disclosures(session, [batch])


def record_disclosures(session: Session, batches: Sequence[Disclosed]) -> None:
    """``record_disclosure`` of each batch in turn, with the accounting rows of all of them
    written by one statement (a feed round's deliveries: one entry per batch, as before)."""
    at = now(session)
    rows: list[dict[str, Any]] = []
    for batch in batches:
        field_names = sorted(batch.fields)
        records = batch.records
        accounting: dict[str, Any] = {
            "agreement_id": str(batch.agreement_id),
            "agreement_version": batch.agreement_version,
            "purpose": batch.purpose,
            "case_reference": batch.case_reference,
            "channel": batch.channel,
            "records": [str(arrest_id) for arrest_id, _ in records],
            "fields": field_names,
        }
        record_event(
            session,
            batch.actor,
            batch.action,
            records[0][0] if len(records) == 1 else None,
            {**(batch.details or {}), **accounting},
        )
        if not records:
            continue
        shared = {
            "at": at,
            "agency": batch.actor.agency_code,
            "user_id": batch.actor.user_id,
            "agreement_id": batch.agreement_id,
            "agreement_version": batch.agreement_version,
            "purpose": batch.purpose,
            "case_reference": batch.case_reference,
            "channel": batch.channel,
            "fields": canonical_text(field_names),
        }
        rows.extend({**shared, "arrest_id": arrest_id, "person_id": person_id} for arrest_id, person_id in records)
    if rows:
        # Written at commit by the seal, with the entries above (`chain.stage_disclosures`): on
        # PostgreSQL in the seal's own statement, no round trip of their own. ``fields`` is the
        # same list for every row of a batch, so it is encoded once per batch, not once per row.
        stage_disclosures(session, rows)


def list_disclosures(
    session: Session,
    actor: Actor,
    *,
    arrest_id: uuid.UUID | None,
    person_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[Disclosure]:
    """Newest first. Exactly one of ``arrest_id`` and ``person_id``; reading is itself audited."""
    if (arrest_id is None) == (person_id is None):
        raise Invalid.one("arrest_id", "give exactly one of arrest_id and person_id")
    query = select(Disclosure)
    if arrest_id is not None:
        query = query.where(Disclosure.arrest_id == arrest_id)
    else:
        query = query.where(Disclosure.person_id == person_id)
    if cursor is not None:
        key = decode_cursor(cursor)
        if len(key) != 1 or not isinstance(key[0], int):
            raise BadRequest("cursor is not one this service returned")
        query = query.where(Disclosure.id < key[0])
    rows = list(session.scalars(query.order_by(Disclosure.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    record_event(
        session,
        actor,
        AuditAction.AUDIT_DISCLOSURES_READ,
        arrest_id or person_id,
        {"by": "arrest_id" if arrest_id is not None else "person_id", "results": len(rows)},
    )
    return Page(rows, encode_cursor([rows[-1].id]) if more else None)
