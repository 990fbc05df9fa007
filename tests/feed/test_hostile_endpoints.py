"""Hostile endpoints against a real worker process (`python -m pars.cli worker`): one partner's
endpoints trickle their answer a byte a second, hang, or answer 300 MB, while another partner's
healthy receiver gets its events. The healthy partner's commit→receipt p95 stays under 2 s, the
bad attempts are recorded as `timeout` / `http_status` within the deadline, the worker's memory
does not grow by the answer's size, and nothing is lost or delivered twice under a new id."""

from __future__ import annotations

import functools
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pars.feed.models import WebhookAttempt
from pars.settings import Settings
from tests.conftest import User
from tests.feed.conftest import ATF_TERMS, FIREARMS_CHARGE
from tests.feed.receivers import Receiver, free_port

Make = Callable[..., dict[str, Any]]
LONG = {"expires_at": "2036-01-01T00:00:00-05:00"}
DEADLINE = 2.0
ROOT = Path(__file__).resolve().parents[2]


def _until(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def _at_least(receiver: Receiver, count: int) -> bool:
    return len(receiver.received) >= count


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[list[int]]:
    """The hostile endpoints, a process of their own listening on three ports (three hosts, as
    far as the sender's per-host connection slots go); yields the ports."""
    ports = [free_port() for _ in range(3)]
    with (tmp_path / "hostile.log").open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own test server
            [sys.executable, "-m", "tests.feed.hostile", *map(str, ports)], cwd=ROOT, stdout=subprocess.PIPE,
            stderr=log,
        )  # fmt: skip
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == b"ready"
        yield ports
    finally:
        process.kill()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def worker_process(settings: Settings, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "PARS_DATABASE_URL": settings.database_url,
        "PARS_AUDIT_KEY_FILE": str(settings.audit_key_file),
        "PARS_WEBHOOK_RETRY_SCHEDULE": "1s",
        "PARS_WEBHOOK_PRIVATE_TARGETS": "loopback",
        "PARS_WEBHOOK_DEADLINE_SECONDS": str(DEADLINE),
        "PARS_WEBHOOK_LEASE_SECONDS": "10",
    }
    with (tmp_path / "worker.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "pars.cli", "worker", "--poll", "0.2"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


class PeakMemory:
    """Samples a process's resident memory in a thread of its own."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            try:
                self.peak = max(self.peak, self._process.memory_info().rss)
            except psutil.Error:
                return

    def now(self) -> int:
        return int(self._process.memory_info().rss)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def _attempts(client: TestClient, user: User, subscription: dict[str, Any]) -> list[dict[str, Any]]:
    url = f"/api/v1/subscriptions/{subscription['id']}/deliveries"
    items: list[dict[str, Any]] = client.get(url, params={"limit": 100}, headers=user.headers).json()["items"]
    return items


def test_hostile_endpoints_never_delay_another_partner(
    client: TestClient,
    agreement: Make,
    fbi: User,
    atf: User,
    book: Make,
    subscribe: Make,
    receiver: Receiver,
    hostile: list[int],
    worker_process: subprocess.Popen[bytes],
    session: Session,
    figures: Callable[..., None],
) -> None:
    agreement(**LONG)
    agreement(**{**ATF_TERMS, **LONG})
    healthy = subscribe(atf, receiver.url("/atf"), purpose="firearms_investigation")

    # The worker is up once a first event has gone through.
    first = book(charges=FIREARMS_CHARGE)
    assert _until(lambda: len(receiver.received) >= 1, timeout=60), "the worker never delivered"
    ids = [first["id"]]
    # How quickly this machine delivers right now, with no hostile endpoint yet: the p95 budget
    # is the contract's 2 s, or four times this where the machine is busier than that allows
    # (two test runs at once). A stalled worker (what the test is for) delays by the deadline
    # and its retries, tens of seconds, and still fails it.
    quiet: list[float] = []
    for _ in range(5):
        record = book(charges=FIREARMS_CHARGE)
        committed_at, expected = time.monotonic(), len(ids) + 1
        ids.append(record["id"])
        assert _until(functools.partial(_at_least, receiver, expected), timeout=30), "a healthy event was held up"
        quiet.append(receiver.received[-1].started - committed_at)
    budget = max(2.0, 4 * statistics.median(quiet))

    paths = ("/trickle", "/hang", "/huge")
    bad = {path: subscribe(fbi, f"http://127.0.0.1:{port}{path}") for path, port in zip(paths, hostile, strict=True)}
    memory = PeakMemory(worker_process.pid)
    baseline = memory.now()
    committed: dict[str, float] = {}
    started = time.monotonic()
    # Events for ~12 s while the hostile endpoints hold their attempts (and their retries).
    while (time.monotonic() - started < 12 or len(committed) < 20) and len(committed) < 80:
        record = book(charges=FIREARMS_CHARGE)
        committed[record["id"]] = time.monotonic()
        ids.append(record["id"])
        expected = len(ids)
        assert _until(functools.partial(_at_least, receiver, expected), timeout=30), "a healthy event was held up"
    peak = memory.peak
    memory.stop()

    # Nothing lost, nothing twice, and never under a new id.
    arrivals: dict[str, float] = {}
    webhook_ids: dict[str, set[str]] = {}
    for item in receiver.received:
        body = json.loads(item.body)
        arrivals.setdefault(body["subject"], item.started)
        webhook_ids.setdefault(body["subject"], set()).add(item.webhook_id)
    assert sorted(arrivals) == sorted(ids)
    assert len(receiver.received) == len(ids) and all(len(v) == 1 for v in webhook_ids.values())
    latencies = sorted(arrivals[i] - at for i, at in committed.items())
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    print(f"\nhostile endpoints: {len(latencies)} healthy events, commit→receipt median "
          f"{statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms; "
          f"worker RSS {baseline / 2**20:.0f} MB → peak {memory.peak / 2**20:.0f} MB")  # fmt: skip
    figures("healthy partner commit→receipt, no hostile endpoint (median)", statistics.median(quiet))
    figures("healthy partner commit→receipt beside hostile endpoints (p95)", p95, limit=budget)
    figures("healthy partner commit→receipt beside hostile endpoints (max)", latencies[-1])
    assert p95 < budget, f"healthy partner p95 {p95:.3f}s (median {statistics.median(latencies):.3f}s)"

    # The hostile endpoints were attempted meanwhile, each ended by the deadline, by category.
    assert _until(lambda: all(len(_attempts(client, fbi, s)) >= 2 for s in bad.values()), timeout=30)
    for path, subscription in bad.items():
        attempts = _attempts(client, fbi, subscription)
        assert {a["status"] for a in attempts} == {"failed"}
        if path == "/huge":
            assert {(a["error"], a["status_code"]) for a in attempts} == {("http_status", 500)}
        else:
            assert {(a["error"], a["status_code"]) for a in attempts} == {("timeout", None)}
            assert all(a["latency_ms"] <= (DEADLINE + 1.0) * 1000 for a in attempts), path

    def healthy_attempts() -> list[bool]:
        session.expire_all()
        rows = session.scalars(
            select(WebhookAttempt.succeeded).where(WebhookAttempt.subscription_id == uuid.UUID(healthy["id"]))
        ).all()
        session.rollback()  # a fresh snapshot on the next look
        return list(rows)

    # The receiver has every event; the worker records the last attempts just after it answers.
    assert _until(lambda: len(healthy_attempts()) >= len(ids), timeout=30)
    recorded = healthy_attempts()
    assert len(recorded) == len(ids) and set(recorded) == {True}  # each once, each 2xx

    # 300 MB answers, read no further than 64 KiB each: memory did not grow by anything like it.
    figures("worker memory growth with 300 MB answers", (peak - baseline) / 2**20, limit=100, unit="MB")
    assert peak - baseline < 100 * 2**20, f"worker grew by {(peak - baseline) / 2**20:.0f} MB"

    # A clean stop, with attempts still hanging: they end by their deadline and are recorded.
    worker_process.send_signal(signal.SIGTERM)
    assert worker_process.wait(DEADLINE + 20) == 0
