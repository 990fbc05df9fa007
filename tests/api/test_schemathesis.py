"""Schemathesis against the in-process app, on both databases: for every operation of the
document, generated requests (valid and invalid) with a city key and with a partner key whose
agency has an agreement in force. Every answer must be documented (status, content type,
headers) and match its schema, and none may be a server error.

Bounded and repeatable: `EXAMPLES` examples per operation and generation mode, derandomized, no
example database, no shrinking (a failure is reported as found). Known ids are mixed into the
path parameters, so operations on existing resources answer their 2xx bodies too, not only 404.
`PARS_SCHEMATHESIS_EXAMPLES` raises the bound for a deeper run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pars.permissions import CITY_ROLES, Role
from tests.conftest import User
from tests.sharing.conftest import TERMS

EXAMPLES = int(os.environ.get("PARS_SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
PUBLIC_ADDRESS = "93.184.215.14"  # webhook hosts resolve here (never connected to: no worker runs)
PURPOSE = "criminal_investigation"
CASE = "FBI-PH-2026-0042"
# An allowed event stream never ends; the transport keeps what arrived within this many seconds.
STREAM_SECONDS = 1.0


@dataclass
class Run:
    operations: int = 0
    examples: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class World:
    """Existing resources, by the path parameter that names them."""

    ids: dict[str, list[str]]


def _world(client: TestClient, make_user: Callable[..., User], book: Callable[..., dict[str, Any]]) -> World:
    """Arrests, an agreement in force for FBI, its case and subscription, a user to revoke."""
    governors = {code: make_user(Role.GOVERNANCE, agency=code) for code in ("DAO", "FJD", "CITY")}
    fbi = make_user(Role.PARTNER, agency="FBI")
    agreement = client.post(
        "/api/v1/agreements", json={**TERMS, "daily_query_limit": None}, headers=governors["CITY"].headers
    ).json()
    for code in ("DAO", "FJD"):
        vote = client.post(
            f"/api/v1/agreements/{agreement['id']}/votes", json={"vote": "yes"}, headers=governors[code].headers
        )
        assert vote.status_code == 200, vote.text
    arrests = [book()["id"] for _ in range(3)]
    case = client.post("/api/v1/cases", json={"reference": CASE, "title": "task force"}, headers=fbi.headers)
    subscription = client.post(
        "/api/v1/subscriptions",
        json={"url": "https://hooks.fbi.example.gov/pars", "purpose": PURPOSE},
        headers=fbi.headers,
    )
    assert case.status_code == 201 and subscription.status_code == 201, (case.text, subscription.text)
    spare = make_user(Role.BOOKING)
    return World(
        ids={
            "arrest_id": arrests,
            "agreement_id": [agreement["id"]],
            "case_id": [case.json()["id"]],
            "subscription_id": [subscription.json()["id"]],
            "user_id": [spare.id],
        }
    )


def _exercise(schema: Any, world: World, headers: dict[str, str]) -> Run:
    run = Run()
    for result in schema.get_all_operations():
        operation = result.ok()
        run.operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _operation(operation, mode, world, headers, run)
    return run


def _operation(operation: Any, mode: GenerationMode, world: World, headers: dict[str, str], run: Run) -> None:
    streams = operation.path.endswith("/stream")

    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def example(case: Any, data: st.DataObject) -> None:
        for name in list(case.path_parameters or {}):
            if name in world.ids and data.draw(st.booleans(), label=f"known {name}"):
                case.path_parameters[name] = data.draw(st.sampled_from(world.ids[name]), label=name)
        run.examples += 1
        kwargs = {"timeout": STREAM_SECONDS} if streams else {}
        response = case.call_and_validate(headers=headers, checks=CHECKS, **kwargs)
        run.statuses[response.status_code] = run.statuses.get(response.status_code, 0) + 1

    try:
        example()
    except Unsatisfiable:
        # No invalid request exists for an operation without parameters or body (`/healthz`).
        assert mode == GenerationMode.NEGATIVE, operation.label
    except Exception as exc:  # noqa: BLE001 - every failure is collected and reported together
        run.failures.append(f"{operation.label} ({mode}): {exc}")


@pytest.mark.parametrize("who", ["city", "partner"])
def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    client: TestClient, make_user: Callable[..., User], book: Callable[..., dict[str, Any]], who: str
) -> None:
    app: Any = client.app
    app.state.webhook_resolver = lambda host: [PUBLIC_ADDRESS]
    world = _world(client, make_user, book)
    if who == "city":
        # Every city role at a stakeholder agency: the key that may call the most operations.
        headers = make_user(*CITY_ROLES, agency="DAO").headers
    else:
        headers = {
            **make_user(Role.PARTNER, agency="FBI").headers,
            "PARS-Purpose": PURPOSE,
            "PARS-Case-Reference": CASE,
        }
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    started = time.monotonic()
    run = _exercise(schema, world, headers)
    elapsed = time.monotonic() - started
    print(  # the figures, for `pytest -s`
        f"\nschemathesis {who}: {run.operations} operations, {run.examples} examples in {elapsed:.1f} s; "
        f"statuses {dict(sorted(run.statuses.items()))}"
    )
    assert run.operations >= 40
    assert not run.failures, "\n\n".join(run.failures)
    assert 200 in run.statuses and not any(status >= 500 and status != 503 for status in run.statuses)
