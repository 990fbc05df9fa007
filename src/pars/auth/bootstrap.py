"""The first principal: agency PARS (the system itself) and its administrator."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pars.actors import SYSTEM
from pars.audit import AuditAction, record_event
from pars.auth.schemas import AgencyIn, UserIn
from pars.auth.service import SYSTEM_AGENCY, agency_by_code, create_agency, create_user
from pars.permissions import Role


def bootstrap(session: Session, *, admin_key: str | None) -> str | None:
    """Creates the system agency and administrator on a new database and returns the admin key
    (the given one or a new one). On an initialised database it does nothing and returns None."""
    if agency_by_code(session, SYSTEM_AGENCY) is not None:
        return None
    create_agency(
        session,
        SYSTEM,
        AgencyIn(code=SYSTEM_AGENCY, name="PARS (the system itself)", kind="city", stakeholder=False),
    )
    _, key = create_user(
        session, SYSTEM, UserIn(agency=SYSTEM_AGENCY, name="Administrator", roles=[Role.ADMIN]), api_key=admin_key
    )
    record_event(session, SYSTEM, AuditAction.SYSTEM_INIT, SYSTEM_AGENCY)
    return key
