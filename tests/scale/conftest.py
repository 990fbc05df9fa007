"""Fixtures for the scale-out tests: PostgreSQL only (SQLite is single-node), the NATS server
on 127.0.0.1:4222 (required under CI=true), a JetStream stream and subject prefix of this run's
own (deleted afterwards) so parallel runs on one NATS server never see each other, and a
cluster of real processes that is always killed."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.js.errors import NotFoundError
from sqlalchemy import Engine

from pars.settings import Settings
from tests.feed.conftest import receiver, settings, subscribe, worker  # noqa: F401 - shared fixtures
from tests.scale.cluster import Cluster, environment
from tests.sharing.conftest import agreement, approve, fbi, governors, propose  # noqa: F401 - shared fixtures

NATS_HOST, NATS_PORT = os.environ.get("PARS_TEST_NATS", "127.0.0.1:4222").rsplit(":", 1)


@pytest.fixture(scope="session")
def nats_url() -> str:
    try:
        socket.create_connection((NATS_HOST, int(NATS_PORT)), timeout=2).close()
    except OSError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"NATS is required under CI=true and is not reachable at {NATS_HOST}:{NATS_PORT}: {exc}")
        pytest.skip(f"NATS not reachable at {NATS_HOST}:{NATS_PORT}: {exc}")
    return f"nats://{NATS_HOST}:{NATS_PORT}"


async def _delete_stream(url: str, name: str) -> None:
    client = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=1)
    try:
        await client.jetstream().delete_stream(name)
    except NotFoundError:
        pass
    finally:
        await client.close()


@pytest.fixture
def nats_names(nats_url: str) -> Iterator[tuple[str, str]]:
    """(stream, subject prefix) for this test alone."""
    token = uuid.uuid4().hex[:12]
    names = (f"PARS_TEST_{token}", f"pars-test.{token}")
    yield names
    asyncio.run(_delete_stream(nats_url, names[0]))


@pytest.fixture
def cluster(db: Engine, settings: Settings, nats_names: tuple[str, str], tmp_path: Path) -> Iterator[Cluster]:  # noqa: F811
    stream, subject = nats_names
    running = Cluster(environment(settings.database_url, settings.audit_key_file, stream, subject), tmp_path)
    yield running
    running.close()
