"""The impact preview on the agreement page (issue 16): beside the ballot, for the version
awaiting votes, what it would have covered over a period the reader picks (a GET form; the
default as the API's, the last 365 days). Governance and oversight only; the service is the
API's (`pars.oversight.impact`), so the page's counts are the API's and its reading is audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from pars.actors import Actor
from pars.errors import Invalid
from pars.oversight import impact
from pars.permissions import Permission
from pars.sharing.models import Agreement, AgreementVersion


def impact_context(
    session: Session,
    actor: Actor,
    agreement: Agreement,
    pending: AgreementVersion | None,
    period: tuple[str, str],
    zone: ZoneInfo,
) -> dict[str, Any]:
    """`impact_shown` false when there is nothing to vote on or the reader may not preview.
    A bad period is shown beside its field; it is refused before the service reads or writes
    anything, so there is nothing to roll back."""
    if pending is None or not actor.may(Permission.PREVIEW_IMPACT):
        return {"impact_shown": False}
    start, end = period
    values = {"from": start, "to": end}
    try:
        shown = impact.preview(session, actor, agreement.id, pending.version, start=start or None, end=end or None,
                               zone=zone)  # fmt: skip
    except Invalid as invalid:
        errors = {e.field: e.message for e in invalid.errors}
        return {"impact_shown": True, "impact": None, "impact_period": values, "impact_errors": errors}
    first = datetime.fromisoformat(shown["period"]["from"]).astimezone(zone).date()
    last = (datetime.fromisoformat(shown["period"]["to"]).astimezone(zone) - timedelta(microseconds=1)).date()
    values = {"from": first.isoformat(), "to": last.isoformat()}
    return {"impact_shown": True, "impact": shown, "impact_period": values, "impact_errors": {}}
