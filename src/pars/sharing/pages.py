"""The agreements pages (issue 7, CONTRACT §6): the list with each agreement's state and time left,
an agreement's versions, votes and history with what each version changes, and the governance
forms (propose, vote, amend or renew, suspend, lift, terminate).

Readers (governance, oversight, partners) see what `agreements.listing` and `agreements.visible`
let them see: a partner only its own agency's. Every form calls the same service as the API, so
the stakeholder rule, the policy (protected fields, prohibited purposes, quorum), the overlap
check and the audit trail are the services'. A refused form is shown again with the service's
message next to the field it names, with the refusal's status.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Protocol
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from pars.actors import Actor
from pars.api.deps import SessionDep
from pars.auth.service import agency_by_code, list_agencies, user_names
from pars.clock import now
from pars.errors import DomainError, Invalid, NotFound
from pars.pagination import MAX_LIMIT, parse_limit
from pars.permissions import Permission
from pars.settings import Settings
from pars.sharing import agreements, words
from pars.sharing.agreements import Policy
from pars.sharing.deps import PolicyDep
from pars.sharing.grants import compile_agreement
from pars.sharing.models import Agreement, AgreementVersion
from pars.sharing.pages_forms import (
    EndForm,
    Errors,
    TermsForm,
    blank_form,
    errors_of,
    form_of,
    suspension_input,
    termination_input,
    terms_input,
    vocabulary,
)
from pars.sharing.pages_views import (
    actions_for,
    countdown_of,
    history,
    lift_votes_now,
    shown_version,
    state_of,
    version_views,
    window_of,
)
from pars.sharing.schemas import AgreementIn
from pars.sharing.standing import Act, pending_version, require_open
from pars.web.guard import Csrf, allowed
from pars.web.render import flash, page, templates
from pars.work import refuse

router = APIRouter(include_in_schema=False)
words.install(templates.env)


class Evidence(Protocol):
    """What the agreement page shows beside the ballot for the version awaiting votes (the
    impact preview, `pars.oversight.pages_impact`): oversight is above sharing, so the app
    hands it to the pages (``app.state.agreement_evidence``) instead of sharing importing it."""

    def __call__(
        self,
        session: Session,
        actor: Actor,
        agreement: Agreement,
        pending: AgreementVersion | None,
        period: tuple[str, str],
        zone: ZoneInfo,
    ) -> dict[str, Any]: ...


def evidence(request: Request) -> Evidence:
    shown: Evidence = request.app.state.agreement_evidence
    return shown


Reader = Annotated[Actor, Depends(allowed(Permission.READ_AGREEMENTS))]
Governor = Annotated[Actor, Depends(allowed(Permission.GOVERN_AGREEMENTS))]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _agreement_id(raw: str) -> uuid.UUID:
    """A malformed id is a missing agreement (a 404 page), not a validation error."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound("no such agreement") from None


def _done(agreement_id: uuid.UUID, text: str) -> Response:
    """Post/Redirect/Get: back to the agreement, with a one-time notice."""
    response = RedirectResponse(f"/agreements/{agreement_id}", status_code=303)
    flash(response, text)
    return response


# --- the list -----------------------------------------------------------------------------------


@router.get("/agreements")
def agreement_list(request: Request, session: SessionDep, actor: Reader, cursor: str | None = None) -> HTMLResponse:
    found = agreements.listing(session, actor, limit=parse_limit(None), cursor=cursor)
    instant, zone = now(session), _settings(request).zone
    rows = []
    for agreement in found.items:
        plan = compile_agreement(agreement)
        version = shown_version(agreement, plan, instant)
        pending = pending_version(agreement)
        rows.append(
            {
                "agreement": agreement,
                "version": version,
                "state": state_of(agreement, plan, instant, zone),
                "window": window_of(version, zone),
                "countdown": countdown_of(agreement, plan, instant),
                "pending": pending if pending is not None and pending is not version else None,
            }
        )
    context = {
        "rows": rows,
        "next_cursor": found.next_cursor,
        "may_govern": actor.may(Permission.GOVERN_AGREEMENTS),
        "quorum": _settings(request).agreement_quorum,
    }
    return page(request, "agreements/list.html", context)


# --- proposing ----------------------------------------------------------------------------------


def _propose_page(
    request: Request,
    session: Session,
    actor: Actor,
    rules: Policy,
    form: TermsForm,
    errors: Errors | None = None,
    status: int = 200,
) -> HTMLResponse:
    # Only partner agencies can be parties; the list is every agency any signed-in user may list.
    partners = [a for a in list_agencies(session, actor, limit=MAX_LIMIT, cursor=None).items if a.kind == "partner"]
    context = {
        "form": form,
        "errors": errors or {},
        "partners": partners,
        "choices": vocabulary(rules),
        "action": "/agreements/new",
        "agreement": None,
    }
    return page(request, "agreements/terms.html", context, status=status)


@router.get("/agreements/new")
def propose_form(request: Request, session: SessionDep, actor: Governor, rules: PolicyDep) -> HTMLResponse:
    today = now(session).astimezone(_settings(request).zone).date()
    return _propose_page(request, session, actor, rules, blank_form(today))


@router.post("/agreements/new", dependencies=[Csrf])
def propose(
    request: Request, session: SessionDep, actor: Governor, rules: PolicyDep, form: Annotated[TermsForm, Form()]
) -> Response:
    try:
        data = terms_input(form, _settings(request).zone, with_agency=True)
        assert isinstance(data, AgreementIn)
        agreement = agreements.propose(session, actor, data, rules)
    except DomainError as error:
        refuse(session, error)
        errors = errors_of(error, window_conflicts=True)
        return _propose_page(request, session, actor, rules, form, errors, error.status)
    code = agreement.agency.code
    return _done(agreement.id, f"Agreement with {code} proposed: it needs {rules.quorum} stakeholder yes-votes.")


# --- one agreement ------------------------------------------------------------------------------


def _detail_page(
    request: Request,
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    *,
    failed: str | None = None,
    errors: Errors | None = None,
    values: EndForm | None = None,
    status: int = 200,
    period: tuple[str, str] = ("", ""),
) -> HTMLResponse:
    """The agreement page; after a refused form, `failed` names it and `errors` say why. With a
    version awaiting votes, its impact preview over `period` (from, to; empty: the default)."""
    agreement = agreements.visible(session, actor, agreement_id)
    instant, zone = now(session), _settings(request).zone
    quorum = _settings(request).agreement_quorum
    plan = compile_agreement(agreement)
    ballots = agreements.lift_ballots(session, agreement)
    voters = [v.user_id for version in agreement.versions for v in version.votes] + [b.user_id for b in ballots]
    # Partners see which agencies voted, not who in them: the city's staff are not theirs to know.
    names = None if actor.is_partner else user_names(session, voters)
    own = agency_by_code(session, actor.agency_code or "") if actor.may(Permission.GOVERN_AGREEMENTS) else None
    context: dict[str, Any] = {
        "agreement": agreement,
        "state": state_of(agreement, plan, instant, zone),
        "countdown": countdown_of(agreement, plan, instant),
        "current": plan.in_force_at(instant),
        "versions": version_views(agreement, plan, instant, zone, names),
        "pending": pending_version(agreement),
        "history": history(agreement, ballots, quorum, instant),
        "actions": actions_for(actor, own, agreement, ballots, instant),
        "lift_votes": lift_votes_now(agreement, ballots),
        "quorum": quorum,
        "failed": failed,
        "errors": errors or {},
        "values": values or EndForm(),
        "title": shown_version(agreement, plan, instant).title,
    }
    context |= evidence(request)(session, actor, agreement, pending_version(agreement), period, zone)
    return page(request, "agreements/detail.html", context, status=status)


@router.get("/agreements/{agreement_id}")
def agreement_page(
    request: Request,
    session: SessionDep,
    actor: Reader,
    agreement_id: str,
    start: Annotated[str, Query(alias="from")] = "",
    end: Annotated[str, Query(alias="to")] = "",
) -> HTMLResponse:
    """`from`/`to`: the impact preview's period (dates, city time, both included)."""
    return _detail_page(request, session, actor, _agreement_id(agreement_id), period=(start.strip(), end.strip()))


def _refused(
    request: Request,
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    form_name: str,
    error: DomainError,
    values: EndForm | None = None,
) -> HTMLResponse:
    refuse(session, error)
    errors = errors_of(error)
    return _detail_page(
        request, session, actor, agreement_id, failed=form_name, errors=errors, values=values, status=error.status
    )


@router.post("/agreements/{agreement_id}/votes", dependencies=[Csrf])
def vote(
    request: Request,
    session: SessionDep,
    actor: Governor,
    rules: PolicyDep,
    agreement_id: str,
    choice: Annotated[str, Form(alias="vote")] = "",
) -> Response:
    ident = _agreement_id(agreement_id)
    try:
        if choice not in {"yes", "no"}:
            raise Invalid.one("vote", "choose yes or no")
        agreement = agreements.vote(session, actor, ident, choice, rules)
    except DomainError as error:
        return _refused(request, session, actor, ident, "vote", error)
    return _done(ident, _vote_notice(agreement, actor, choice, rules.quorum))


def _vote_notice(agreement: Agreement, actor: Actor, choice: str, quorum: int) -> str:
    mine = [v for v in agreement.versions if any(b.agency.code == actor.agency_code for b in v.votes)]
    version = mine[-1]
    yes = sum(b.vote == "yes" for b in version.votes)
    said = f"{actor.agency_code} voted {choice} on version {version.version} ({yes} of {quorum} yes-votes)."
    if version.status == "approved":
        return f"{said} Quorum reached: version {version.version} is approved."
    if version.status == "rejected":
        return f"{said} Version {version.version} is rejected: quorum can no longer be reached."
    return said


@router.get("/agreements/{agreement_id}/versions/new")
def amend_form(
    request: Request, session: SessionDep, actor: Governor, rules: PolicyDep, agreement_id: str
) -> HTMLResponse:
    agreement = agreements.visible(session, actor, _agreement_id(agreement_id))
    plan = compile_agreement(agreement)
    base = shown_version(agreement, plan, now(session))
    return _amend_page(request, rules, agreement, form_of(base, _settings(request).zone))


def _amend_page(
    request: Request,
    rules: Policy,
    agreement: Agreement,
    form: TermsForm,
    errors: Errors | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "form": form,
        "errors": errors or {},
        "partners": [],
        "choices": vocabulary(rules),
        "action": f"/agreements/{agreement.id}/versions",
        "agreement": agreement,
    }
    return page(request, "agreements/terms.html", context, status=status)


@router.post("/agreements/{agreement_id}/versions", dependencies=[Csrf])
def amend(
    request: Request,
    session: SessionDep,
    actor: Governor,
    rules: PolicyDep,
    agreement_id: str,
    form: Annotated[TermsForm, Form()],
) -> Response:
    ident = _agreement_id(agreement_id)
    try:
        data = terms_input(form, _settings(request).zone, with_agency=False)
        agreement = agreements.amend(session, actor, ident, data, rules)
    except DomainError as error:
        refuse(session, error)
        agreement = agreements.visible(session, actor, ident)
        return _amend_page(request, rules, agreement, form, errors_of(error, window_conflicts=True), error.status)
    number = agreement.versions[-1].version
    return _done(ident, f"Version {number} proposed: it takes effect once {rules.quorum} stakeholders vote yes.")


@router.post("/agreements/{agreement_id}/suspension", dependencies=[Csrf])
def suspend(
    request: Request,
    session: SessionDep,
    actor: Governor,
    agreement_id: str,
    form: Annotated[EndForm, Form()],
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Two steps, as terminating and sealing: the reason, then a page that says what stops and
    asks to confirm. Nothing is suspended until "Yes, suspend now" posts `confirm=yes`."""
    ident = _agreement_id(agreement_id)
    try:
        reason = suspension_input(form).reason
        if confirm != "yes":
            agreement = agreements.visible(session, actor, ident)
            own = agency_by_code(session, actor.agency_code or "")
            if own is None:
                raise NotFound("no such agency")
            require_open(Act.SUSPEND, agreement, own, [], now(session))  # refused now, not after confirming
            context = {"agreement": agreement, "reason": reason, "quorum": _settings(request).agreement_quorum}
            return page(request, "agreements/suspend.html", context)
        agreements.suspend(session, actor, ident, reason)
    except DomainError as error:
        return _refused(request, session, actor, ident, "suspend", error, form)
    return _done(ident, "Agreement suspended: nothing is disclosed under it until the suspension is lifted.")


@router.post("/agreements/{agreement_id}/suspension/lift", dependencies=[Csrf])
def lift(request: Request, session: SessionDep, actor: Governor, rules: PolicyDep, agreement_id: str) -> Response:
    ident = _agreement_id(agreement_id)
    try:
        agreement = agreements.vote_to_lift(session, actor, ident, rules)
    except DomainError as error:
        return _refused(request, session, actor, ident, "lift", error)
    if agreement.suspended:
        return _done(ident, f"{actor.agency_code} voted to lift the suspension; it lifts at {rules.quorum} votes.")
    return _done(ident, "Suspension lifted: quorum of stakeholders voted to lift it.")


@router.post("/agreements/{agreement_id}/termination", dependencies=[Csrf])
def terminate(
    request: Request, session: SessionDep, actor: Governor, agreement_id: str, form: Annotated[EndForm, Form()]
) -> Response:
    ident = _agreement_id(agreement_id)
    try:
        data = termination_input(form, _settings(request).zone, now(session))
        agreement = agreements.terminate(session, actor, ident, data.effective_at, data.reason)
    except DomainError as error:
        return _refused(request, session, actor, ident, "terminate", error, form)
    assert agreement.terminated_at is not None
    when = "now" if agreement.terminated_at <= now(session) else "at the end of " + form.last_day.strip()
    return _done(ident, f"Agreement terminated {when}: this cannot be undone.")
