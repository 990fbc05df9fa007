"""Sign-in (password, then TOTP; enrolment with a QR code on the first sign-in), sign-out and the
home page."""

from __future__ import annotations

from typing import Annotated

import segno
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from pars.api.deps import SessionDep
from pars.auth.models import Credentials
from pars.auth.signin import (
    IDLE_LIMIT,
    STAGE_PASSWORD,
    STAGE_SIGNED_IN,
    SessionOver,
    check_code,
    check_password,
    finish_sign_in,
    open_session,
    pending_enrolment,
    resume,
    sealing_key,
    seconds_left,
    sign_out,
)
from pars.errors import DomainError
from pars.web.guard import REASONS, SESSION_COOKIE, Csrf, SignInNeeded, WebActor, safe_next, set_session_cookie
from pars.web.render import flash, page
from pars.web.worklists import gather
from pars.work import refuse

router = APIRouter(include_in_schema=False)


def _seal_key(request: Request) -> bytes:
    raw = request.app.state.audit_signer.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return sealing_key(raw)


@router.get("/")
def home(request: Request, session: SessionDep, actor: WebActor) -> HTMLResponse:
    found = gather(request.app.state.worklists, session, actor, request.app.state.settings)
    listed = {item.path.split("?")[0] for item in found}
    return page(request, "home.html", {"worklists": found, "listed": listed})


@router.get("/signin")
def signin_form(request: Request, next: str | None = None, reason: str | None = None) -> HTMLResponse:
    return page(request, "signin/password.html", {"next": safe_next(next), "message": REASONS.get(reason or "", "")})


@router.post("/signin", dependencies=[Csrf])
def signin(
    request: Request,
    session: SessionDep,
    login: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        credentials = check_password(session, login, password)
    except DomainError as error:
        refuse(session, error)
        context = {"next": safe_next(next), "login": login, "error": error.detail}
        return page(request, "signin/password.html", context, status=error.status)
    token = open_session(session, credentials.user_id, STAGE_PASSWORD)
    step = "/signin/code" if credentials.totp_enrolled_at is not None else "/signin/enrol"
    response = RedirectResponse(f"{step}?next={safe_next(next)}", status_code=303)
    set_session_cookie(response, token)
    return response


def _pending(request: Request, session: SessionDep) -> Credentials:
    """The sign-in between its password and its second factor."""
    try:
        row = resume(session, request.cookies.get(SESSION_COOKIE), STAGE_PASSWORD)
    except SessionOver as over:
        raise SignInNeeded(over.reason, "/") from None
    return session.get_one(Credentials, row.user_id)


Pending = Annotated[Credentials, Depends(_pending)]


@router.get("/signin/enrol")
def enrol_form(request: Request, session: SessionDep, credentials: Pending, next: str | None = None) -> Response:
    if credentials.totp_enrolled_at is not None:
        return RedirectResponse(f"/signin/code?next={safe_next(next)}", status_code=303)
    return _enrol_page(request, session, credentials, next)


def _enrol_page(
    request: Request, session: SessionDep, credentials: Credentials, next: str | None, error: str | None = None
) -> HTMLResponse:
    enrolment = pending_enrolment(session, credentials, _seal_key(request))
    qr = segno.make(enrolment.uri, error="m").svg_inline(scale=5, title="QR code for your authenticator app")
    grouped = " ".join(enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4))
    context = {"qr": qr, "secret": grouped, "next": safe_next(next), "error": error, "user": credentials.user}
    return page(request, "signin/enrol.html", context, status=401 if error else 200)


@router.post("/signin/enrol", dependencies=[Csrf])
def enrol(
    request: Request,
    session: SessionDep,
    credentials: Pending,
    code: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    return _second_factor(request, session, credentials, code, next, enrolling=True)


@router.get("/signin/code")
def code_form(request: Request, credentials: Pending, next: str | None = None) -> HTMLResponse:
    return page(request, "signin/code.html", {"next": safe_next(next), "user": credentials.user})


@router.post("/signin/code", dependencies=[Csrf])
def code(
    request: Request,
    session: SessionDep,
    credentials: Pending,
    code: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    return _second_factor(request, session, credentials, code, next, enrolling=False)


def _second_factor(
    request: Request, session: SessionDep, credentials: Credentials, code: str, next: str, *, enrolling: bool
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    user_id = credentials.user_id
    try:
        check_code(session, credentials, code, _seal_key(request))
    except DomainError as error:
        refuse(session, error)
        credentials = session.get_one(Credentials, user_id)
        if enrolling and credentials.totp_enrolled_at is None:
            return _enrol_page(request, session, credentials, next, error.detail)
        context = {"next": safe_next(next), "user": credentials.user, "error": error.detail}
        return page(request, "signin/code.html", context, status=error.status)
    pending = resume(session, token, STAGE_PASSWORD)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, finish_sign_in(session, pending))
    if enrolling:
        flash(response, "Your authenticator is enrolled: sign in with a code from it from now on.")
    return response


@router.post("/signout", dependencies=[Csrf])
def signout(request: Request, session: SessionDep) -> Response:
    sign_out(session, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    flash(response, "You have signed out.")
    return response


@router.get("/session")
def session_state(request: Request, session: SessionDep) -> JSONResponse:
    """Seconds before this browser's session locks, for the page's warning; asking does not
    count as activity. Without a session: 0 (nothing else is said)."""
    return JSONResponse({"seconds_left": seconds_left(session, request.cookies.get(SESSION_COOKIE))})


@router.post("/session/keepalive", dependencies=[Csrf])
def keep_alive(request: Request, session: SessionDep) -> JSONResponse:
    """ "Stay signed in": the session's idle clock restarts, as if a page had been opened."""
    try:
        resume(session, request.cookies.get(SESSION_COOKIE), STAGE_SIGNED_IN)
    except SessionOver:  # the idle session's end is committed with the answer
        return JSONResponse({"seconds_left": 0}, status_code=401)
    return JSONResponse({"seconds_left": int(IDLE_LIMIT.total_seconds())})
