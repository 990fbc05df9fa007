"""Request dependencies the agreement routes and pages share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pars.api.deps import get_settings
from pars.settings import Settings
from pars.sharing.agreements import Policy


def policy(settings: Annotated[Settings, Depends(get_settings)]) -> Policy:
    """The city-wide rules every agreement keeps, from the settings."""
    return Policy(
        protected_fields=frozenset(settings.protected_fields),
        prohibited_purposes=frozenset(settings.prohibited_purposes),
        quorum=settings.agreement_quorum,
    )


PolicyDep = Annotated[Policy, Depends(policy)]
