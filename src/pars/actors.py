"""Who is acting. Built once per request (from the API key or the web session) and passed
explicitly to every service.

There are two kinds, and the kind is the type: a ``CityActor`` (a city user, or the system
itself) and a ``PartnerActor`` (a user of a partner agency). Functions that return arrest
records take a ``CityActor``; the sharing gate takes a ``PartnerActor``; so a partner can reach a
record only through the gate, and mypy refuses any code that would hand a partner to a city
records service. Only `pars.auth.service.actor_for` makes either kind from a stored user.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import ClassVar

from pars.permissions import Permission, Role, allows


@dataclass(frozen=True)
class Actor:
    """Either kind, for what both may do (be audited, be refused, act on their own keys)."""

    agency_kind: ClassVar[str]
    user_id: uuid.UUID | None
    agency_code: str | None
    roles: frozenset[Role]
    name: str = ""

    @property
    def is_partner(self) -> bool:
        return isinstance(self, PartnerActor)

    def may(self, permission: Permission) -> bool:
        return allows(self.roles, permission)


@dataclass(frozen=True)
class CityActor(Actor):
    """A user of a city agency, or the system: reads records from the records services."""

    agency_kind: ClassVar[str] = "city"


@dataclass(frozen=True)
class PartnerActor(Actor):
    """A user of a partner agency: receives records only through `pars.sharing.gate`."""

    agency_kind: ClassVar[str] = "partner"


AnyActor = CityActor | PartnerActor

# The system itself: CLI commands, migrations and the worker act under this identity.
SYSTEM = CityActor(user_id=None, agency_code="PARS", roles=frozenset(), name="system")
