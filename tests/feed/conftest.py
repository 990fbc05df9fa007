"""Fixtures for the feed tests: agreements (from the sharing tests), a real webhook receiver, an
in-process worker on the test's frozen clock, and helpers to read a partner's feed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pars.app import create_app
from pars.audit.chain import CheckpointPolicy
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.feed.targets import system_resolver
from pars.feed.worker import FeedWorker, WorkerOptions
from pars.permissions import Role
from pars.settings import PrivateTargets, Settings
from tests.conftest import User
from tests.feed.receivers import Receiver
from tests.sharing.conftest import agreement, approve, fbi, governors, propose  # noqa: F401 - shared fixtures

FIREARMS_CHARGE = [{"statute": "18 § 6106 §§ A1", "grade": "F3"}]
ASSAULT_CHARGE = [{"statute": "18 § 2701 §§ A1", "grade": "M2"}]
ATF_TERMS: dict[str, Any] = {
    "agency": "ATF",
    "title": "ATF firearms arrests",
    "purposes": ["firearms_investigation"],
    "fields": ["person.name", "person.dob", "arrest.arrested_at", "charges"],
    "scope": {"titles": [18], "sections": ["6105", "6106", "6108", "6110.2"]},
}
PUBLIC_ADDRESS = "93.184.215.14"  # a public address (never connected to)
SCHEDULE = (timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30))


@pytest.fixture
def settings(database_url: str, audit_key_file: Path) -> Settings:
    """The receivers here listen on 127.0.0.1: webhooks may go to loopback addresses
    (PARS_WEBHOOK_PRIVATE_TARGETS=loopback, as `make run` and `pars demo` use)."""
    return Settings(
        database_url=database_url, audit_key_file=audit_key_file, webhook_private_targets=PrivateTargets.LOOPBACK
    )


class FakeDNS:
    """A resolver for the tests: names → addresses, changeable mid-test (DNS rebinding); names it
    does not know resolve as the system resolves them (localhost)."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {
            "hooks.fbi.example.gov": [PUBLIC_ADDRESS],
            "fbi.example.org": [PUBLIC_ADDRESS],
        }

    def __call__(self, host: str) -> list[str]:
        if host in self.names:
            return list(self.names[host])
        return system_resolver(host)


@pytest.fixture
def dns() -> FakeDNS:
    return FakeDNS()


@pytest.fixture
def client(db: Engine, settings: Settings, clock: FrozenClock, dns: FakeDNS) -> Iterator[TestClient]:
    """The application, resolving webhook hosts with ``dns``."""
    app = create_app(settings, clock=clock, engine=db)
    app.state.webhook_resolver = dns
    with TestClient(app) as client:
        yield client


@pytest.fixture
def atf(make_user: Callable[..., User]) -> User:
    return make_user(Role.PARTNER, agency="ATF")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def worker(db: Engine, clock: FrozenClock, settings: Settings, policy: CheckpointPolicy) -> Iterator[FeedWorker]:
    """The worker's functions on the test clock; `drain()` works until nothing is due now."""
    options = WorkerOptions(
        schedule=SCHEDULE, zone=settings.zone, lease=timedelta(seconds=60), deadline=1.0,
        targets=PrivateTargets.LOOPBACK,
    )  # fmt: skip
    feed_worker = FeedWorker(make_session_factory(db), clock, options, checkpoints=policy)
    yield feed_worker
    feed_worker.sender.close()


def feed_headers(user: User, purpose: str = "criminal_investigation") -> dict[str, str]:
    return {**user.headers, "PARS-Purpose": purpose}


@pytest.fixture
def subscribe(client: TestClient) -> Callable[..., dict[str, Any]]:
    def do(user: User, url: str, purpose: str = "criminal_investigation") -> dict[str, Any]:
        response = client.post("/api/v1/subscriptions", json={"url": url, "purpose": purpose}, headers=user.headers)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    return do


@pytest.fixture
def poll(client: TestClient) -> Callable[..., dict[str, Any]]:
    def do(user: User, after: str | None = None, purpose: str = "criminal_investigation") -> dict[str, Any]:
        params = {} if after is None else {"after": after}
        response = client.get("/api/v1/feed", params=params, headers=feed_headers(user, purpose))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return do
