"""Test fixtures. Every test that touches the database runs once on SQLite and once on
PostgreSQL (the `backend` parameter). Each backend gets a fresh database built by the Alembic
migrations; each test starts from empty tables.

PostgreSQL is found at PARS_TEST_POSTGRES_URL (default: the local server). When it is not
reachable the PostgreSQL half is skipped locally, and fails the run under CI=true.

Hypothesis runs under the `ci` profile when CI=true (or HYPOTHESIS_PROFILE=ci): no per-example
deadline and no "too slow" or "data too large" health checks, because a busy machine makes any
example slow and a test that fails for that is a defect; examples are derandomized, so a CI run
is repeatable (the `dev` profile, the default, keeps searching afresh). A test's own `@settings`
still wins where it sets a value.

Reliability figures: a test of the hostile-world suite passes what it measured to `figures`
(name, value, the limit it was held to); the run lists them in a "reliability figures" section
of the terminal summary and writes them to tests/.reliability.json (git-ignored), so a closing
note can quote the figures of the last `make test`.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from pars.actors import SYSTEM
from pars.app import create_app
from pars.audit.chain import CheckpointPolicy
from pars.audit.models import AuditEntry
from pars.audit.signing import create_key_file, load_signer
from pars.auth.bootstrap import bootstrap
from pars.auth.schemas import AgencyIn, UserIn
from pars.auth.service import agency_by_code, create_agency, create_user
from pars.clock import FrozenClock
from pars.db import make_engine, make_session_factory
from pars.migrate import upgrade
from pars.models import metadata
from pars.permissions import Role
from pars.settings import Settings
from pars.work import bind, unit_of_work

POSTGRES_ADMIN_URL = os.environ.get("PARS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN_KEY = "pars_test_admin_key_0123456789abcdefghijklmnop"
hypothesis_settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
hypothesis_settings.register_profile(
    "dev", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev")
)

RELIABILITY_FILE = Path(__file__).parent / ".reliability.json"
# CONTRACT §3: /healthz answers within a second, whatever else the node is doing.
HEALTH_SECONDS = 1.0

# A Tuesday afternoon in Philadelphia, away from any daylight-saving change.
START = datetime(2026, 3, 17, 19, 0, tzinfo=UTC)


def _postgres_database() -> Iterator[str]:
    name = f"pars_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true and is not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'pars.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _empty_tables(engine: Engine) -> None:
    """The audit tables refuse DELETE and TRUNCATE (triggers): the cleanup sets them aside the
    way only a database administrator could, in its own transaction."""
    tables = list(reversed(metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY CASCADE"))
        else:
            triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
            for name, _ in triggers:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
            for table in tables:
                conn.execute(table.delete())
            for _, sql in triggers:
                conn.execute(text(sql))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture(scope="session")
def policy(audit_key_file: Path) -> CheckpointPolicy:
    """The checkpoint policy and signer of every unit of work a test opens (the test app's key)."""
    return CheckpointPolicy(load_signer(audit_key_file), every_entries=1000, every=timedelta(seconds=60))


@pytest.fixture
def db(engine: Engine, clock: FrozenClock, policy: CheckpointPolicy) -> Engine:
    """An empty, bootstrapped database: the PARS agency and its administrator (ADMIN_KEY), and
    the trail's first signed checkpoint, as `pars init` leaves it."""
    _empty_tables(engine)
    with unit_of_work(make_session_factory(engine), clock, policy=policy) as session:
        bootstrap(session, admin_key=ADMIN_KEY)
    return engine


@pytest.fixture(scope="session")
def reader_engine(database_url: str) -> Iterator[Engine]:
    """A plain engine for tests to look at the database. The app's SQLite engine takes the write
    lock at the start of every transaction; a test holding one open would block the app."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(db: Engine, reader_engine: Engine, clock: FrozenClock, policy: CheckpointPolicy) -> Iterator[Session]:
    """A session for reading what requests left behind."""
    with make_session_factory(reader_engine)() as session:
        bind(session, clock, policy=policy)
        yield session


@pytest.fixture(scope="session")
def audit_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkpoint signing key every test app uses (what `pars init` creates)."""
    path = tmp_path_factory.mktemp("keys") / "pars-audit.key"
    create_key_file(path)
    return path


@pytest.fixture
def settings(database_url: str, audit_key_file: Path) -> Settings:
    return Settings(database_url=database_url, audit_key_file=audit_key_file)


@pytest.fixture
def client(db: Engine, settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock, engine=db)) as client:
        yield client


@dataclass(frozen=True)
class User:
    id: str
    agency: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


CITY_AGENCIES = {"PPD": False, "DAO": True, "FJD": True, "CITY": True, "DEFENDER": False}


@pytest.fixture
def make_user(db: Engine, clock: FrozenClock, policy: CheckpointPolicy) -> Callable[..., User]:
    """Creates a user (and its agency when new) directly through the services."""

    def make(*roles: Role | str, agency: str | None = None) -> User:
        role_set = [Role(r) for r in roles]
        code = agency or ("FBI" if Role.PARTNER in role_set else "PPD")
        with unit_of_work(make_session_factory(db), clock, policy=policy) as session:
            if agency_by_code(session, code) is None:
                kind = "partner" if Role.PARTNER in role_set else "city"
                create_agency(
                    session,
                    SYSTEM,
                    AgencyIn(code=code, name=f"{code} agency", kind=kind, stakeholder=CITY_AGENCIES.get(code, False)),
                )
            user, key = create_user(
                session, SYSTEM, UserIn(agency=code, name=f"{code} {'/'.join(role_set)}", roles=role_set)
            )
            return User(id=str(user.id), agency=code, key=key)

    return make


@pytest.fixture
def admin() -> User:
    return User(id="", agency="PARS", key=ADMIN_KEY)


@pytest.fixture
def booking(make_user: Callable[..., User]) -> User:
    return make_user(Role.BOOKING)


@pytest.fixture
def charging(make_user: Callable[..., User]) -> User:
    return make_user(Role.CHARGING, agency="DAO")


@pytest.fixture
def magistrate(make_user: Callable[..., User]) -> User:
    return make_user(Role.MAGISTRATE, agency="FJD")


def arrest_body(**overrides: Any) -> dict[str, Any]:
    """A valid booking; keyword arguments replace top-level members."""
    body: dict[str, Any] = {
        "person": {
            "name": {"first": "Ana", "middle": None, "last": "Peña", "suffix": None},
            "dob": "1990-05-04",
            "sex": "F",
            "race": "White",
            "ethnicity": "Hispanic",
            "place_of_birth": "San Juan, PR",
            "citizenship": "US",
            "address": {"street": "3021 Kensington Ave", "city": "Philadelphia", "state": "PA", "zip": "19134"},
            "phone": "215-555-0142",
        },
        "arrest": {
            "arrested_at": "2026-03-17T09:30:00-04:00",
            "location": "Kensington Ave & E Allegheny Ave",
            "district": "24",
            "incident_number": "2624001234",
            "arresting_agency": "PPD",
            "arresting_officer": "4471",
        },
        "charges": [{"statute": "18 § 2701 §§ A1", "grade": "M2"}],
        "narrative": "Officers responded to a report of a fight.",
    }
    body.update(overrides)
    return body


@pytest.fixture
def book(client: TestClient, booking: User) -> Callable[..., dict[str, Any]]:
    """Books an arrest over HTTP and returns the record."""

    def do(**overrides: Any) -> dict[str, Any]:
        response = client.post("/api/v1/arrests", json=arrest_body(**overrides), headers=booking.headers)
        assert response.status_code == 201, response.text
        record: dict[str, Any] = response.json()
        return record

    return do


@pytest.fixture
def walk(
    client: TestClient, booking: User, charging: User, magistrate: User, book: Callable[..., dict[str, Any]]
) -> Callable[..., dict[str, Any]]:
    """Books an arrest and walks it through the workflow up to the given status."""
    steps = [
        ("charges_approved", charging, "charging-decision", {"decision": "approved"}),
        (
            "arraigned",
            magistrate,
            "arraignment",
            {
                "held_at": "2026-03-17T14:00:00-04:00",
                "bail_type": "monetary",
                "bail_amount": 5000,
                "conditions": "stay away from the complainant",
                "next_hearing_at": "2026-03-24T09:00:00-04:00",
            },
        ),
        ("committed", booking, "commitment", {"facility": "Curran-Fromhold Correctional Facility"}),
        ("released", booking, "release", {"released_at": "2026-03-17T15:00:00-04:00", "reason": "bail posted"}),
    ]

    def do(status: str, **overrides: Any) -> dict[str, Any]:
        record = book(**overrides)
        for reached, user, step, body in steps:
            if record["status"] == status:
                break
            response = client.post(f"/api/v1/arrests/{record['id']}/{step}", json=body, headers=user.headers)
            assert response.status_code == 200, response.text
            record = response.json()
            assert record["status"] == reached
        return record

    return do


def audit_actions(session: Session) -> list[tuple[str, str]]:
    """(action, outcome) of every audit entry, in order."""
    session.expire_all()
    return [(e.action, e.outcome) for e in session.query(AuditEntry).order_by(AuditEntry.seq)]


# --- reliability figures and time budgets ---------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    test: str
    name: str
    value: float
    limit: float | None
    unit: str


_FIGURES: list[Figure] = []


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Callable[..., None]:
    """`figures(name, value, limit=..., unit="s")` records a measured figure of this test."""

    def record(name: str, value: float, *, limit: float | None = None, unit: str = "s") -> None:
        _FIGURES.append(Figure(request.node.nodeid, name, round(value, 4), limit and round(limit, 4), unit))

    return record


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not _FIGURES:
        return
    terminalreporter.section("reliability figures")
    for figure in _FIGURES:
        limit = "" if figure.limit is None else f"  (limit {figure.limit:g} {figure.unit})"
        terminalreporter.write_line(f"{figure.name}: {figure.value:g} {figure.unit}{limit}  [{figure.test}]")
    # Written whole and renamed: a second run beside this one never leaves a torn file.
    partial = RELIABILITY_FILE.with_name(f".reliability.{os.getpid()}.json")
    run = {"finished": datetime.now(UTC).isoformat(timespec="seconds"), "exit_status": int(exitstatus)}
    partial.write_text(json.dumps({**run, "figures": [f.__dict__ for f in _FIGURES]}, indent=2) + "\n")
    partial.replace(RELIABILITY_FILE)
    terminalreporter.write_line(f"written to {RELIABILITY_FILE}")


T = TypeVar("T")


def baseline_seconds(call: Callable[[], object], times: int = 3) -> float:
    """The median time of `call`, a request that waits for nothing: how quickly this machine
    answers right now. Budgets below grow with it, so a busy machine does not fail a test."""
    samples = []
    for _ in range(times):
        started = time.monotonic()
        call()
        samples.append(time.monotonic() - started)
    return statistics.median(samples)


def health_budget(baseline: float) -> float:
    """The contract's second for /healthz, plus five times what a trivial request costs on this
    machine now. On an idle machine that is a few milliseconds over the second; under load it
    stretches, while a /healthz stuck behind a lock, a slow body or a dead database (what the
    tests look for) still waits seconds longer than any such budget."""
    return HEALTH_SECONDS + 5 * baseline


def health_answer(call: Callable[[], T], baseline: float, tries: int = 3) -> tuple[T, float]:
    """`call` (a /healthz request) and the seconds it took, asked again, up to `tries` times in
    all, while it takes longer than `health_budget(baseline)`. A machine that stalls for a moment
    (CI's busy cores) costs one try; a /healthz stuck behind a lock, a slow body or a dead
    connection misses the budget on every try, so the caller's assertion still fails."""
    budget = health_budget(baseline)
    for _ in range(tries):
        started = time.monotonic()
        answer = call()
        seconds = time.monotonic() - started
        if seconds < budget:
            break
    return answer, seconds


def listening_socket() -> socket.socket:
    """A socket already listening on a port the OS chose, for a server in a thread
    (`server.run(sockets=[...])`): no window between choosing a free port and binding it in
    which a second test run beside this one could take the same port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock
