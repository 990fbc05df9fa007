"""Who is acting. Built once per request from the API key; passed explicitly to every service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pars.auth.permissions import Permission, Role, allows


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None
    agency_code: str | None
    agency_kind: str | None
    roles: frozenset[Role]
    name: str = ""

    @property
    def is_partner(self) -> bool:
        return self.agency_kind == "partner"

    def may(self, permission: Permission) -> bool:
        return allows(self.roles, permission)


# The system itself: CLI commands, migrations and the worker act under this identity.
SYSTEM = Actor(user_id=None, agency_code="PARS", agency_kind="city", roles=frozenset(), name="system")
