"""Who is behind a page request, and what protects every form.

- The session cookie (`pars_session`: HttpOnly, Secure, SameSite=Lax) names a browser session
  (`auth.signin`); a page without one, or after 30 minutes idle, redirects to the sign-in page.
- Every POST form carries the CSRF token (`csrf`), which must equal the `pars_csrf` cookie.
- `allowed(permission)` is the page's role check, `allowed_city` and `allowed_partner` also the
  caller's kind (`pars.actors`); the rule and its audited refusal are the API's (`pars.auth.deps`).
- Errors on pages are pages: the exception handlers answer HTML where the API answers
  problem+json.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pars.actors import AnyActor, CityActor, PartnerActor
from pars.api import problems
from pars.api.deps import SessionDep
from pars.auth import deps as checks
from pars.auth.service import actor_for
from pars.auth.signin import STAGE_SIGNED_IN, SessionOver, resume
from pars.errors import DomainError, FieldError, Invalid
from pars.inputs import text_problem
from pars.permissions import Permission
from pars.web.render import CSRF_COOKIE, page
from pars.work import Keep, act_as, unit_of_work

SESSION_COOKIE = "pars_session"

REASONS = {
    "idle": "Your session locked after 30 minutes without activity. Sign in again to go on.",
    "ended": "Your session has ended. Sign in again.",
    "expired": "The sign-in took too long. Start again.",
    "none": "",
}


class SignInNeeded(Keep):
    """To the sign-in page; what the request did stands (`pars.work.Keep`): an idle session's
    end is on the trail."""

    def __init__(self, reason: str, next_path: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.next_path = next_path


class CsrfRefused(Exception):
    pass


def mark_web(request: Request) -> None:
    """On every page route: errors are answered as pages, and a query parameter with a control
    character is refused here, before any page hands it to the database (CONTRACT §7)."""
    request.state.web = True
    errors = [
        FieldError(name, problem)
        for name, value in request.query_params.multi_items()
        if (problem := text_problem(value))
    ]
    if errors:
        raise Invalid(errors)


def set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, httponly=True, secure=True, samesite="lax", path="/")


def safe_next(path: str | None) -> str:
    """Where to go after signing in: only a path on this site (no open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def web_actor(request: Request, session: SessionDep) -> AnyActor:
    try:
        row = resume(session, request.cookies.get(SESSION_COOKIE), STAGE_SIGNED_IN)
    except SessionOver as over:
        raise SignInNeeded(over.reason, _return_to(request)) from None
    actor = actor_for(row.user)
    act_as(session, actor)
    request.state.actor = actor
    return actor


def _return_to(request: Request) -> str:
    """Where the sign-in leads back to. A form sent after the lock returns to the page it was on
    (its Referer, when it is this site's), never to its POST address, which has no page; the
    browser then puts back what was typed (pars.js keeps a draft of a form while it is sent)."""
    if request.method == "GET":
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.headers.get("host") or not referer.path:
        return "/"
    return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))


WebActor = Annotated[AnyActor, Depends(web_actor)]


def allowed(permission: Permission) -> Callable[[AnyActor], AnyActor]:
    """The page's role check: `actor: Annotated[AnyActor, Depends(allowed(Permission.X))]`; the
    same rule and refusal as the API's (`pars.auth.deps`)."""

    def check(actor: WebActor) -> AnyActor:
        return checks.allowed(actor, permission, page=True)

    return check


def allowed_city(permission: Permission) -> Callable[[AnyActor], CityActor]:
    """A page that shows or changes city records: partners are refused (`pars.actors`)."""

    def check(actor: WebActor) -> CityActor:
        return checks.allowed_city(actor, permission, page=True)

    return check


def allowed_partner(permission: Permission) -> Callable[[AnyActor], PartnerActor]:
    """A partner page: its records come only through the sharing gate."""

    def check(actor: WebActor) -> PartnerActor:
        return checks.allowed_partner(actor, permission, page=True)

    return check


async def check_token(request: Request) -> None:
    """The CSRF token alone, for a form whose every field goes through an inbound model, which
    refuses control characters itself and shows the error beside the field (the booking form)."""
    form = await request.form()
    sent = form.get("csrf")
    cookie = request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not cookie or not secrets.compare_digest(sent, cookie):
        raise CsrfRefused


async def check_csrf(request: Request) -> None:
    """On every POST page route (`dependencies=[Depends(check_csrf)]`): the token, then the
    text of every field (CONTRACT §7: no NUL or other control character; tab and newline are
    free text's), so no form hands such a character to the database (a 500 on PostgreSQL): the
    answer is 422, a page naming the field."""
    await check_token(request)
    form = await request.form()
    errors = [
        FieldError(name, problem)
        for name, value in form.multi_items()
        if isinstance(value, str) and (problem := text_problem(value, free_text=True))
    ]
    if errors:
        raise Invalid(errors)


Csrf = Depends(check_csrf)
CsrfToken = Depends(check_token)


def _sign_in_needed(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInNeeded)
    target = f"/signin?next={quote(exc.next_path, safe='')}"
    if exc.reason != "none":
        target += f"&reason={exc.reason}"
    return RedirectResponse(target, status_code=303)


def _csrf_refused(request: Request, _: Exception) -> Response:
    return error_page(
        request,
        403,
        "This form could not be accepted",
        "Its security token is missing or out of date. Go back, reload the page and send the form again.",
    )


def error_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    return page(request, "error.html", {"title": title, "detail": detail, "status": status}, status=status)


def is_page(request: Request) -> bool:
    """A page route, or a browser asking for a page at a path that is not the API's."""
    if getattr(request.state, "web", False):
        return True
    path = request.url.path
    return "text/html" in request.headers.get("accept", "") and not path.startswith(("/api/", "/docs", "/openapi"))


def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if not is_page(request):
        return problems.domain_error(request, exc)
    return error_page(request, exc.status, exc.title, exc.detail)


def _validation_error(request: Request, exc: Exception) -> Response:
    """A hand-edited address (an id that is not one, a date that is not a date)."""
    if not is_page(request):
        return problems.validation_error(request, exc)
    return error_page(request, 422, "This address is not valid", "Part of the address is not in the expected form.")


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not is_page(request):
        return problems.http_error(request, exc)
    _recognise(request)
    if exc.status_code == 404:
        return error_page(request, 404, "No such page", "There is no page at this address.")
    if exc.status_code == 405:
        # A form's address opened as a page (a bookmark, a reload after the lock, a typed URL).
        return error_page(
            request, 405, "There is no page at this address",
            "This address only receives forms. Use the navigation above, or go back and open the page again.",
        )  # fmt: skip
    return error_page(request, exc.status_code, "This request cannot be answered", str(exc.detail))


def _recognise(request: Request) -> None:
    """An address no route answers never ran the route's sign-in check: look at the session
    cookie here, so a signed-in user's error page still has their navigation. Opening it counts
    as activity, as any page does; a locked or unknown session shows the page without one."""
    token = request.cookies.get(SESSION_COOKIE)
    if getattr(request.state, "actor", None) is not None or not token:
        return
    state = request.app.state
    try:
        with unit_of_work(state.session_factory, state.clock, policy=state.checkpoint_policy) as session:
            request.state.actor = actor_for(resume(session, token, STAGE_SIGNED_IN).user)
    except SessionOver:
        return


class NoStore:
    """`Cache-Control: no-store` on every answer that does not set its own, the static files
    excepted: a signed-in page must not come back from the browser's cache (the Back button
    after sign-out on a shared district terminal), nor an API answer holding a record from a
    proxy's. Plain ASGI, so event streams pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_no_store)


def install(app: FastAPI) -> None:
    """After `problems.install`: page requests get pages, API requests problem+json as before."""
    app.add_exception_handler(SignInNeeded, _sign_in_needed)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(NoStore)
