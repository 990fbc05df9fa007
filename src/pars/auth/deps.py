"""Who calls the API, and whether their roles allow the route: request dependencies.

Authorisation has two layers (STYLE 6): these dependencies check the role; the service checks the
resource. ``require_city`` is the only way a route obtains a `CityActor`, which is what the records
services take: a partner never reaches them, whatever the route forgets, because a partner key
never produces a `CityActor` (mypy refuses the call).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pars.actors import AnyActor, CityActor, PartnerActor
from pars.api.deps import SessionDep
from pars.audit import AuditAction
from pars.auth.service import authenticate
from pars.errors import Forbidden, Refusal
from pars.permissions import Permission
from pars.work import act_as

_bearer = HTTPBearer(auto_error=False, description="an API key issued by an administrator")


def current_actor(
    session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> AnyActor:
    actor = authenticate(session, credentials.credentials if credentials else None)
    act_as(session, actor)
    structlog.contextvars.bind_contextvars(user=str(actor.user_id), agency=actor.agency_code)
    return actor


ActorDep = Annotated[AnyActor, Depends(current_actor)]


def refused(permission: Permission, *, page: bool = False) -> Forbidden:
    """The role check's refusal, audited as `auth.denied`, on the API or (``page``) a page."""
    if page:
        details = {"permission": str(permission), "channel": "web"}
        return Forbidden("your roles do not allow this page", refusal=Refusal(AuditAction.AUTH_DENIED, None, details))
    return Forbidden(
        f"your roles do not allow this ({permission})",
        refusal=Refusal(AuditAction.AUTH_DENIED, None, {"permission": str(permission)}),
    )


def allowed(actor: AnyActor, permission: Permission, *, page: bool = False) -> AnyActor:
    if not actor.may(permission):
        raise refused(permission, page=page)
    return actor


def allowed_city(actor: AnyActor, permission: Permission, *, page: bool = False) -> CityActor:
    """A city actor whose roles allow ``permission``; a partner is refused like any missing role."""
    if not isinstance(actor, CityActor) or not actor.may(permission):
        raise refused(permission, page=page)
    return actor


def allowed_partner(actor: AnyActor, permission: Permission, *, page: bool = False) -> PartnerActor:
    """A partner actor whose roles allow ``permission``; the sharing gate's callers take this."""
    if not isinstance(actor, PartnerActor) or not actor.may(permission):
        raise refused(permission, page=page)
    return actor


# The role checks below read nothing from the database: they run in the event loop (``async``),
# which spares each request a hand-off to the thread pool and back.


def require(permission: Permission) -> Callable[[AnyActor], Awaitable[AnyActor]]:
    """Either kind of caller whose roles allow ``permission`` (a route that serves both kinds
    branches on the type: city records services or the sharing gate)."""

    async def check(actor: ActorDep) -> AnyActor:
        return allowed(actor, permission)

    return check


def require_city(permission: Permission) -> Callable[[AnyActor], Awaitable[CityActor]]:
    async def check(actor: ActorDep) -> CityActor:
        return allowed_city(actor, permission)

    return check


def require_partner(permission: Permission) -> Callable[[AnyActor], Awaitable[PartnerActor]]:
    async def check(actor: ActorDep) -> PartnerActor:
        return allowed_partner(actor, permission)

    return check
