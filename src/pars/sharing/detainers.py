"""Detainer requests (CONTRACT §8). The city holds no one on a detainer: a request with a
judicial warrant earns the requesting agency a release notice, nothing more; one without is
declined with the reason and nothing is ever sent for it."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.actors import Actor
from pars.audit import AuditAction, record_event
from pars.auth.service import agency_by_code
from pars.clock import now
from pars.errors import NotFound
from pars.pagination import Page, keyset_page
from pars.records.models import Arrest
from pars.sharing.models import DetainerRequest
from pars.sharing.schemas import DetainerIn, JudicialWarrant

ACCEPTED_REASON = (
    "accepted: a judicial warrant signed by a judge was presented; the requesting agency will be "
    "notified when the person is released. The city holds no one on a detainer."
)
DECLINED_REASON = (
    "declined: no judicial warrant signed by a judge (number, court, judge and signing time are all "
    "required). The city does not hold anyone on a detainer and gives notice of release only against "
    "a judicial warrant."
)


def _complete(warrant: JudicialWarrant | None) -> bool:
    return warrant is not None and all(
        value not in (None, "") for value in (warrant.number, warrant.court, warrant.judge, warrant.signed_at)
    )


def file_detainer(session: Session, actor: Actor, data: DetainerIn) -> DetainerRequest:
    """Needs no agreement in force, but the arrest must exist and not be sealed (else 404)."""
    arrest = session.get(Arrest, data.arrest_id)
    if arrest is None or arrest.sealed:
        raise NotFound("no such arrest")
    agency = agency_by_code(session, actor.agency_code or "")
    assert agency is not None
    accepted = _complete(data.judicial_warrant)
    request = DetainerRequest(
        arrest_id=arrest.id,
        agency=agency,
        user_id=actor.user_id,
        type=data.type,
        judicial_warrant=None if data.judicial_warrant is None else data.judicial_warrant.model_dump(mode="json"),
        document_ref=data.document_ref,
        status="accepted" if accepted else "declined",
        reason=ACCEPTED_REASON if accepted else DECLINED_REASON,
        created_at=now(session),
    )
    session.add(request)
    session.flush()
    record_event(
        session, actor, AuditAction.DETAINER_FILE, arrest.id,
        {"detainer_id": str(request.id), "type": data.type, "status": request.status},
    )  # fmt: skip
    return request


def accepted_for_release(session: Session, arrest_id: uuid.UUID) -> list[DetainerRequest]:
    """The requests owed a release notice when this arrest is released (used by the feed)."""
    return list(
        session.scalars(
            select(DetainerRequest).where(DetainerRequest.arrest_id == arrest_id, DetainerRequest.status == "accepted")
        )
    )


def list_detainers(session: Session, actor: Actor, *, limit: int, cursor: str | None) -> Page[DetainerRequest]:
    agency = agency_by_code(session, actor.agency_code or "")
    assert agency is not None
    query = select(DetainerRequest).where(DetainerRequest.agency_id == agency.id)
    page = keyset_page(
        session, query, at=DetainerRequest.created_at, ident=DetainerRequest.id, limit=limit, cursor=cursor
    )
    record_event(session, actor, AuditAction.DETAINER_READ, None, {"results": len(page.items)})
    return page
