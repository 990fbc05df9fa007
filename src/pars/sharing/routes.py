"""Agreements and detainer requests over HTTP (CONTRACT §6, §8)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from pars.actors import Actor
from pars.api.deps import API_PREFIX, Cursor, Limit, SessionDep, documented, get_settings
from pars.api.openapi import also
from pars.auth.deps import require
from pars.clock import now
from pars.pagination import DEFAULT_LIMIT, parse_limit
from pars.permissions import Permission
from pars.settings import Settings
from pars.sharing import agreements, cases, detainers
from pars.sharing.deps import PolicyDep
from pars.sharing.models import Agreement, DetainerRequest
from pars.sharing.schemas import (
    AgreementIn,
    AgreementOut,
    AgreementPage,
    CaseIn,
    CaseOut,
    CasePage,
    DetainerIn,
    DetainerOut,
    DetainerPage,
    SuspensionIn,
    TerminationIn,
    TermsIn,
    VoteIn,
)

router = APIRouter(prefix=API_PREFIX, tags=["agreements"])

Reader = Annotated[Actor, Depends(require(Permission.READ_AGREEMENTS))]
Governor = Annotated[Actor, Depends(require(Permission.GOVERN_AGREEMENTS))]
Partner = Annotated[Actor, Depends(require(Permission.FILE_DETAINERS))]
CaseOwner = Annotated[Actor, Depends(require(Permission.REGISTER_CASES))]
CaseReader = Annotated[Actor, Depends(require(Permission.READ_CASES))]
SettingsDep = Annotated[Settings, Depends(get_settings)]
Json = dict[str, Any]


def _out(session: SessionDep, agreement: Agreement) -> Json:
    return agreements.describe(agreement, now(session))


@router.post("/agreements", status_code=201, **documented(AgreementOut, 201))
def propose(body: AgreementIn, session: SessionDep, actor: Governor, rules: PolicyDep) -> Json:
    """Version 1, proposed; it takes effect once quorum stakeholders vote yes."""
    return _out(session, agreements.propose(session, actor, body, rules))


@router.get("/agreements", **documented(AgreementPage))
def list_agreements(session: SessionDep, actor: Reader, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Json:
    page = agreements.listing(session, actor, limit=parse_limit(limit), cursor=cursor)
    return {"items": [_out(session, a) for a in page.items], "next_cursor": page.next_cursor}


@router.get("/agreements/{agreement_id}", **documented(AgreementOut))
def read_agreement(agreement_id: uuid.UUID, session: SessionDep, actor: Reader) -> Json:
    return _out(session, agreements.visible(session, actor, agreement_id))


@router.post("/agreements/{agreement_id}/versions", status_code=201, **documented(AgreementOut, 201))
def amend(agreement_id: uuid.UUID, body: TermsIn, session: SessionDep, actor: Governor, rules: PolicyDep) -> Json:
    """A renewal or amendment: a new proposed version that must be approved."""
    return _out(session, agreements.amend(session, actor, agreement_id, body, rules))


@router.post("/agreements/{agreement_id}/votes", **documented(AgreementOut))
def vote(agreement_id: uuid.UUID, body: VoteIn, session: SessionDep, actor: Governor, rules: PolicyDep) -> Json:
    """The caller's stakeholder agency votes on the newest proposed version."""
    return _out(session, agreements.vote(session, actor, agreement_id, body.vote, rules))


@router.post("/agreements/{agreement_id}/suspension", **documented(AgreementOut))
def suspend(agreement_id: uuid.UUID, body: SuspensionIn, session: SessionDep, actor: Governor) -> Json:
    """Any one stakeholder stops all disclosure at once."""
    return _out(session, agreements.suspend(session, actor, agreement_id, body.reason))


@router.delete("/agreements/{agreement_id}/suspension", **documented(AgreementOut, errors=also(409)))
def lift(agreement_id: uuid.UUID, session: SessionDep, actor: Governor, rules: PolicyDep) -> Json:
    """The caller's agency votes to lift; it lifts when quorum agencies have voted."""
    return _out(session, agreements.vote_to_lift(session, actor, agreement_id, rules))


@router.post("/agreements/{agreement_id}/termination", **documented(AgreementOut))
def terminate(agreement_id: uuid.UUID, body: TerminationIn, session: SessionDep, actor: Governor) -> Json:
    return _out(session, agreements.terminate(session, actor, agreement_id, body.effective_at, body.reason))


def _detainer(request: DetainerRequest) -> DetainerOut:
    return DetainerOut(id=request.id, arrest_id=request.arrest_id, status=request.status, reason=request.reason)


@router.post("/detainers", status_code=201, response_model=DetainerOut, tags=["detainers"], responses=also(404))
def file_detainer(body: DetainerIn, session: SessionDep, actor: Partner) -> DetainerOut:
    """Accepted only with a judicial warrant; nobody is ever held."""
    return _detainer(detainers.file_detainer(session, actor, body))


@router.get("/detainers", response_model=DetainerPage, tags=["detainers"])
def list_detainers(
    session: SessionDep, actor: Partner, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> DetainerPage:
    page = detainers.list_detainers(session, actor, limit=parse_limit(limit), cursor=cursor)
    return DetainerPage(items=[_detainer(d) for d in page.items], next_cursor=page.next_cursor)


@router.post("/cases", status_code=201, response_model=CaseOut, tags=["cases"])
def register_case(body: CaseIn, session: SessionDep, actor: CaseOwner, settings: SettingsDep) -> Json:
    """A case the partner's agency works; its reference is what its queries carry as
    PARS-Case-Reference. Subjects are kept only as keyed hashes, never as names."""
    return cases.describe(cases.register(session, actor, body, zone=settings.zone))


@router.get("/cases", response_model=CasePage, tags=["cases"])
def list_cases(
    session: SessionDep,
    actor: CaseReader,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    agency: str | None = Query(None, description="governance and oversight: one agency's cases only"),
) -> Json:
    """Newest first. Governance and oversight see every agency's cases; a partner its own."""
    page = cases.listing(session, actor, limit=parse_limit(limit), cursor=cursor, agency=agency)
    return {"items": [cases.describe(c) for c in page.items], "next_cursor": page.next_cursor}


@router.get("/cases/{case_id}", response_model=CaseOut, tags=["cases"])
def read_case(case_id: uuid.UUID, session: SessionDep, actor: CaseReader) -> Json:
    return cases.describe(cases.visible(session, actor, case_id))


@router.post("/cases/{case_id}/close", response_model=CaseOut, tags=["cases"])
def close_case(case_id: uuid.UUID, session: SessionDep, actor: CaseOwner) -> Json:
    """From now on the reference names no open case; closing twice is 409."""
    return cases.describe(cases.close(session, actor, case_id))
