"""A partner never reaches a records service: by type, and at run time for code that got round
the types. Each `type: ignore[arg-type]` below is itself a check: `make lint` runs mypy --strict,
which reports an unused ignore, so if a records service ever accepted a partner these lines
would fail the lint."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select

from pars.actors import CityActor, PartnerActor
from pars.audit.chain import CheckpointPolicy
from pars.audit.models import AuditEntry
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.errors import Forbidden
from pars.permissions import Role
from pars.records import intake, search, workflow
from pars.records.schemas import ArrestIn, ChargingDecisionIn, SealIn
from pars.work import unit_of_work
from tests.conftest import arrest_body

CITY = ZoneInfo("America/New_York")
FBI = PartnerActor(user_id=uuid.uuid4(), agency_code="FBI", roles=frozenset({Role.PARTNER}))
CLERK = CityActor(user_id=uuid.uuid4(), agency_code="PPD", roles=frozenset({Role.BOOKING}))


def test_every_records_service_refuses_a_partner_before_reading(
    db: Engine, clock: FrozenClock, policy: CheckpointPolicy, book: Callable[..., dict[str, Any]]
) -> None:
    arrest_id = uuid.UUID(book()["id"])
    factory = make_session_factory(db)
    attempts: list[Callable[[Any], object]] = [
        lambda s: search.read_arrest(s, FBI, arrest_id),  # type: ignore[arg-type]
        lambda s: search.search_arrests(s, FBI, search.SearchQuery(filters={"last_name": "Peña"})),  # type: ignore[arg-type]
        lambda s: search.arraignment_docket(s, FBI, sla_hours=72, limit=10, cursor=None),  # type: ignore[arg-type]
        lambda s: search.charging_queue(s, FBI, limit=10, cursor=None),  # type: ignore[arg-type]
        lambda s: intake.book_arrest(s, FBI, ArrestIn.model_validate(arrest_body())),  # type: ignore[arg-type]
        lambda s: workflow.record_charging_decision(
            s,
            FBI,  # type: ignore[arg-type]
            arrest_id,
            ChargingDecisionIn(decision="approved"),
            zone=CITY,
        ),
        lambda s: workflow.seal_arrest(s, FBI, arrest_id, SealIn(order_ref="ORDER")),  # type: ignore[arg-type]
    ]
    with factory() as reader:
        entries = reader.scalar(select(func.count()).select_from(AuditEntry))
    for attempt in attempts:
        with (
            pytest.raises(Forbidden, match="only through the sharing gate"),
            unit_of_work(factory, clock, policy=policy) as session,
        ):
            attempt(session)
    with factory() as reader:
        # Nothing was read, so nothing was audited as read, searched or changed.
        assert reader.scalar(select(func.count()).select_from(AuditEntry)) == entries

    # The same services serve a city actor.
    with unit_of_work(factory, clock, policy=policy) as session:
        assert search.read_arrest(session, CLERK, arrest_id).id == arrest_id
