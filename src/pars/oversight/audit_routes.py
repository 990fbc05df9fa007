"""The audit API (CONTRACT §10): the trail, its verification, the latest signed checkpoint and
the accounting of disclosures."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from pars.actions import Outcome
from pars.actors import Actor
from pars.api.deps import API_PREFIX, Cursor, Limit, SessionDep, get_settings
from pars.api.openapi import also
from pars.audit import disclosures, trail
from pars.audit.models import AuditEntry, Disclosure
from pars.audit.schemas import (
    AuditEntryOut,
    AuditPage,
    CheckpointOut,
    DisclosureOut,
    DisclosurePage,
    ProblemOut,
    VerificationOut,
)
from pars.auth.deps import require
from pars.pagination import DEFAULT_LIMIT, parse_limit
from pars.permissions import Permission
from pars.settings import Settings

router = APIRouter(prefix=API_PREFIX, tags=["audit"])

SettingsDep = Annotated[Settings, Depends(get_settings)]


def trusted_public_key(request: Request) -> str:
    """The public half of the key this process signs with: checkpoints signed by any other key
    fail verification."""
    key: str = request.app.state.audit_signer.public_key
    return key


def _entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor_id,
        agency=entry.agency,
        action=entry.action,
        outcome=Outcome(entry.outcome),
        target=entry.target,
        details=entry.details,
        hash=entry.hash,
    )


@router.get("/audit", response_model=AuditPage)
def read_trail(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Permission.READ_AUDIT))],
    settings: SettingsDep,
    actor_id: Annotated[uuid.UUID | None, Query(alias="actor", description="a user id")] = None,
    agency: str | None = None,
    action: Annotated[str | None, Query(description="`arrest.read`, or an area: `auth.*`")] = None,
    outcome: Outcome | None = None,
    start: Annotated[str | None, Query(alias="from", description="date (city time) or instant, inclusive")] = None,
    end: Annotated[
        str | None, Query(alias="to", description="date (city time, inclusive) or instant, exclusive")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> AuditPage:
    """Newest entry first."""
    page = trail.read_trail(
        session, actor, actor_id=actor_id, agency=agency, action=action, outcome=outcome, start=start, end=end,
        zone=settings.zone, limit=parse_limit(limit), cursor=cursor,
    )  # fmt: skip
    return AuditPage(items=[_entry_out(e) for e in page.items], next_cursor=page.next_cursor)


@router.get("/audit/verify", response_model=VerificationOut)
def verify_trail(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Permission.VERIFY_AUDIT))],
    public_key: Annotated[str, Depends(trusted_public_key)],
) -> VerificationOut:
    """Recomputes the whole chain and checks every checkpoint's signature."""
    result = trail.verify(session, actor, public_key=public_key)
    return VerificationOut(
        ok=result.ok,
        entries=result.entries,
        first_bad_seq=result.first_bad_seq,
        checkpoints=result.checkpoints,
        problems=[ProblemOut(seq=p.seq, checkpoint=p.checkpoint, reason=p.reason) for p in result.problems],
    )


@router.get("/audit/checkpoint", response_model=CheckpointOut, responses=also(404))
def latest_checkpoint(
    session: SessionDep, actor: Annotated[Actor, Depends(require(Permission.READ_CHECKPOINT))]
) -> CheckpointOut:
    """The latest signed checkpoint. Keep it: later, the trail's first `size` entries must still
    hash to `head` (docs/audit.md shows how to check, offline)."""
    checkpoint = trail.latest_checkpoint(session, actor)
    return CheckpointOut(
        size=checkpoint.size,
        head=checkpoint.head,
        at=checkpoint.at,
        signature=checkpoint.signature,
        public_key=checkpoint.public_key,
    )


def _disclosure_out(row: Disclosure) -> DisclosureOut:
    return DisclosureOut(
        at=row.at,
        agency=row.agency,
        user=row.user_id,
        agreement_id=row.agreement_id,
        agreement_version=row.agreement_version,
        purpose=row.purpose,
        case_reference=row.case_reference,
        channel=row.channel,
        fields=row.fields,
        arrest_id=row.arrest_id,
    )


@router.get("/disclosures", response_model=DisclosurePage)
def list_disclosures(
    session: SessionDep,
    actor: Annotated[Actor, Depends(require(Permission.READ_DISCLOSURES))],
    arrest_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> DisclosurePage:
    """Every disclosure of one record (`arrest_id`) or of any record of one person
    (`person_id`), newest first; exactly one of the two."""
    page = disclosures.list_disclosures(
        session, actor, arrest_id=arrest_id, person_id=person_id, limit=parse_limit(limit), cursor=cursor
    )
    return DisclosurePage(items=[_disclosure_out(d) for d in page.items], next_cursor=page.next_cursor)
