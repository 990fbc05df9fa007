"""`pars demo --receiver`: the demo world's FBI and ATF webhooks arrive, signed, at the demo
receiver; ATF's only for firearms arrests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pars.audit.chain import CheckpointPolicy
from pars.clock import FrozenClock
from pars.db import make_session_factory
from pars.demo.receiver import Secrets, make_handler
from pars.demo.world import build_world
from pars.feed.models import Subscription
from pars.feed.worker import FeedWorker, WorkerOptions
from pars.settings import PrivateTargets, Settings
from tests.conftest import arrest_body
from tests.feed.receivers import free_port


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def console() -> Console:
    return Console(record=True, width=200, color_system=None)


@pytest.fixture
def running_receiver(db: Engine, settings: Settings, port: int, console: Console) -> Iterator[Secrets]:
    secrets = Secrets(db, port)
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(secrets, console, settings.zone))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield secrets
    server.shutdown()
    server.server_close()


def test_the_demo_receiver_prints_signed_events_as_they_arrive(
    db: Engine,
    settings: Settings,
    clock: FrozenClock,
    client: TestClient,
    session: Session,
    tmp_path: Path,
    port: int,
    console: Console,
    running_receiver: Secrets,
    policy: CheckpointPolicy,
) -> None:
    quiet = Console(quiet=True)
    keys = build_world(settings, db, arrests=20, keys_file=tmp_path / "k.json", seed=3, console=quiet, clock=clock,
                       receiver_port=port)  # fmt: skip
    build_world(settings, db, arrests=0, keys_file=tmp_path / "k.json", seed=4, console=quiet, clock=clock,
                receiver_port=port)  # fmt: skip
    urls = sorted(session.scalars(select(Subscription.url)))
    assert urls == [f"http://127.0.0.1:{port}/atf", f"http://127.0.0.1:{port}/fbi"]  # once, however many runs

    options = WorkerOptions(schedule=(timedelta(seconds=5),), zone=settings.zone, targets=PrivateTargets.LOOPBACK)
    worker = FeedWorker(make_session_factory(db), clock, options, checkpoints=policy)
    worker.drain()  # the history goes into the streams, not to the receiver: it predates the subscriptions
    assert console.export_text() == ""

    clock.advance(timedelta(minutes=1))
    booking = {"Authorization": f"Bearer {keys['ppd.booking']['api_key']}"}
    arrested_at = clock.now().isoformat()
    body = arrest_body(charges=[{"statute": "18 § 6106 §§ A1", "grade": "F3"}])
    body["arrest"]["arrested_at"] = arrested_at
    gun = client.post("/api/v1/arrests", json=body, headers=booking)
    assert gun.status_code == 201, gun.text
    worker.drain()
    worker.sender.close()
    printed = console.export_text()
    assert "FBI pars.arrest.booked" in printed and "ATF pars.arrest.booked" in printed
    assert printed.count("signature ok") == 2
    assert gun.json()["tracking_number"] in printed
