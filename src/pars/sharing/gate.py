"""The one gate every partner-bound record passes through (DESIGN principle 1).

Agreements do not exist yet in this version of PARS, so no partner agency has one in force and
the gate refuses every partner request, auditing the refusal. It is the single place the
agreement check will go.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from pars.audit import AuditAction
from pars.auth.principal import Actor
from pars.errors import Forbidden, Refusal


def refuse_without_agreement(session: Session, actor: Actor, action: AuditAction, target: str | None) -> None:
    raise Forbidden(
        f"agency {actor.agency_code} has no data-sharing agreement in force",
        refusal=Refusal(action, target, {"reason": "no_agreement_in_force"}),
    )
