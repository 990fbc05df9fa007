"""CONTRACT §11: health, metrics and documentation need no key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from pars.app import create_app
from pars.clock import FrozenClock
from pars.db import make_engine
from pars.migrate import upgrade
from pars.settings import Settings
from tests.conftest import START, baseline_seconds, health_answer, health_budget


def test_healthz_checks_the_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(audit_key_file: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1"
    settings = Settings(database_url=url, audit_key_file=audit_key_file)
    app = create_app(settings, clock=FrozenClock(START), engine=make_engine(url))
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_metrics_count_requests_by_route_and_arrests_by_status(
    client: TestClient, walk: Callable[..., dict[str, Any]]
) -> None:
    walk("charges_approved")
    walk("booked")
    text = client.get("/metrics").text
    assert 'pars_arrests{status="charges_approved"} 1.0' in text
    assert 'pars_arrests{status="booked"} 1.0' in text
    assert 'pars_http_requests_total{method="POST",route="/api/v1/arrests",status="201"} 2.0' in text
    assert 'pars_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/api/v1/arrests"}' in text


def test_docs_and_openapi_describe_the_api(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/api/v1/arrests/{arrest_id}/charging-decision" in schema["paths"]
    assert "ArrestRecord" in schema["components"]["schemas"]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_every_response_has_a_request_id(client: TestClient) -> None:
    assert len(client.get("/healthz").headers["x-request-id"]) == 16


def test_healthz_answers_within_a_second_when_the_database_does_not_answer(audit_key_file: Path) -> None:
    """An address that drops packets: the connection attempt cannot finish in time, the answer
    is 503 anyway, within the second."""
    url = "postgresql+psycopg://postgres@10.255.255.1:5432/none"
    settings = Settings(database_url=url, audit_key_file=audit_key_file)
    with TestClient(create_app(settings, clock=FrozenClock(START))) as client:
        # The second, stretched by what a request that waits for nothing costs on this machine
        # now (a busy machine must not fail it; a wait for the connect timeout still does).
        baseline = baseline_seconds(lambda: client.get("/docs"))
        response, seconds = health_answer(lambda: client.get("/healthz"), baseline)
        assert seconds < health_budget(baseline)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


def test_healthz_on_sqlite_reports_a_missing_database_file(tmp_path: Path, audit_key_file: Path) -> None:
    """A read-only probe: a missing file is an unreachable database, not a new empty one."""
    database = tmp_path / "gone.db"
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(database_url=url, audit_key_file=audit_key_file)
    with TestClient(create_app(settings, clock=FrozenClock(START), engine=engine)) as client:
        assert client.get("/healthz").status_code == 200
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        response = client.get("/healthz")
    assert response.status_code == 503
    assert not database.exists()
