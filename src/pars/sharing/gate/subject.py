"""The subject of a partner search, for oversight: which person or case was looked for, as a
keyed hash of the normalised identifying values (`pars.sharing.keyed`), never the values."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pars.records.names import name_key
from pars.records.numbers import compact_tracking_number
from pars.records.search import SearchQuery
from pars.sharing.keyed import Domain, hasher

# Parameters that name a person or a case; their normalised values make a search's subject.
SUBJECT_PARAMETERS = ("last_name", "first_name", "dob", "sid", "ppn", "tracking_number", "incident_number",
                      "docket_number")  # fmt: skip


def search_details(session: Session, query: SearchQuery) -> dict[str, Any]:
    """What oversight needs to tell searches apart, never the searched values (they are
    personal data): the parameter names and a keyed hash of the normalised identifying values
    (``subject``, ``pars.sharing.keyed``), so that the same person searched again is recognised
    even when nothing was found or the search was refused. A session without the signer raises
    (`pars.sharing.keyed`): never a search without its subject."""
    details: dict[str, Any] = {"parameters": query.parameter_names}
    digest = hasher(session, Domain.SEARCH_SUBJECT)
    values = {}
    for name in SUBJECT_PARAMETERS:
        value = query.filters.get(name)
        if value is None:
            continue
        if name in ("last_name", "first_name"):
            value = name_key(value) or ""
        elif name == "tracking_number":
            value = compact_tracking_number(value) or value
        else:
            value = " ".join(value.split()).upper()
        values[name] = value
    if values:
        details["subject"] = digest(values)
    return details
